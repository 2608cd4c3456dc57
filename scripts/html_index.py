"""Write an index.html that links the executed lessons in a folder of HTML pages."""

import html
import sys
from pathlib import Path


def main(folder: str) -> None:
    """Write ``index.html`` in ``folder`` listing every lesson page in reading order."""
    root = Path(folder)
    pages = sorted(path for path in root.glob("[0-9][0-9]_*.html"))
    items = "\n".join(
        f'<li><a href="{page.name}">{html.escape(page.stem.replace("_", " "))}</a></li>'
        for page in pages
    )
    (root / "index.html").write_text(
        "<!doctype html><meta charset='utf-8'><title>Deep learning for images</title>"
        "<h1>Deep learning for images: CNNs and GANs with Keras 3</h1>"
        "<p>Executed in cpu mode by <code>make results</code>.</p>"
        f"<ol>\n{items}\n</ol>\n"
    )


if __name__ == "__main__":
    main(sys.argv[1])
