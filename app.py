"""embedlab: a workbench for choosing, comparing and adapting text embedding models.

Run with ``./dev.sh app`` (installs what is needed, then ``streamlit run app.py``). The pages live
in ``pages/``; ``ui/shell.py`` builds the navigation and explains how cold deep links stay inside it.
"""

from ui import shell

shell.run()
