"""DOM rendering and DOM events, through the adapter in app/browser/dom.py."""
