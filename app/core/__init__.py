"""Pure Python application core: no js, pyodide or pyscript imports; runs and is tested in CPython."""
