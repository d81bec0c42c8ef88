"""The Textual monitor (``klx monitor``): screens and widgets; the data comes from services/monitor."""
