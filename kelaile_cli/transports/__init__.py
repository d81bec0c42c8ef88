"""Transports: files, serial, TCP, USB. They move bytes; they decide nothing about content."""
