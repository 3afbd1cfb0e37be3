"""The web app's pages, one module per part of the site (backend/web/__init__.py includes them in order)."""
