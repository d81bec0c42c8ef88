"""Services: workflows that combine transports and the core."""
