"""Adapters to the browser: the only package that imports js, pyodide or pyscript."""
