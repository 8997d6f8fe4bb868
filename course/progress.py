"""Progress bars: a live widget in JupyterLab, one line of text everywhere else.

tqdm's automatic choice draws a widget in any Jupyter kernel that has ipywidgets, including the kernels of
nbval and of the headless runner, whose saved outputs must stay text. Those set COURSE_PROGRESS=text (the
tests' conftest.py and `course.notebooks.run_notebook` do), and then every bar is the plain text one.
A terminal gets the text bar either way.
"""

import os

if os.environ.get("COURSE_PROGRESS") == "text":
    from tqdm.std import tqdm
else:
    from tqdm.auto import tqdm

__all__ = ["tqdm"]
