"""Pure, sans-IO core: decoding, receipt model, rendering. No I/O, no clock, no printing."""
