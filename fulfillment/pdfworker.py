"""HTML -> PDF with WeasyPrint, and nothing else.

Kept free of Django so that the processes rendering a large batch in parallel
(``fulfillment.documents``) start light: they receive finished HTML (no external
resources: fonts are the system's, barcodes inline SVG) and return PDF bytes.
WeasyPrint (about a second to import) is imported on the first render, so that web and
command processes that never print do not pay for it.
"""


def render(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, base_url=None).write_pdf()


def ping() -> bool:
    """Warm a process: import WeasyPrint and load the fonts by rendering a tiny page."""
    render("<p>.</p>")
    return True
