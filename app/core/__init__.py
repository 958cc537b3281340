"""Pure Python application core.

No js, pyodide or pyscript imports: it runs, and is tested, in CPython.
"""
