#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Copies docs/*.md for gi-docgen: the first "# Heading" becomes the page's
Title: (gi-docgen's metadata, which would show as text on GitHub), and
links to other guides point at their .html pages.

Usage: gen-content.py OUTDIR FILE.md..."""
import os
import re
import sys

LINK = re.compile(r"\]\((?:\.\./)?(?:docs/)?([A-Za-z0-9-]+)\.md(#[^)]*)?\)")
# ../examples/FILE: the reference ships the examples next to its pages.
EXAMPLE = re.compile(r"\]\(\.\./examples/([A-Za-z0-9.-]+)\)")

outdir = sys.argv[1]
for path in sys.argv[2:]:
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    title = next((line[2:].strip() for line in lines if line.startswith("# ")), None)
    if title is None:
        sys.exit("%s: no '# Title' line" % path)
    lines.remove("# " + title)
    text = "Title: %s\n\n%s" % (title, "\n".join(lines))
    text = EXAMPLE.sub(r"](\1)", text)
    text = LINK.sub(lambda m: "](%s.html%s)" % (m.group(1), m.group(2) or ""), text)
    with open(os.path.join(outdir, os.path.basename(path)), "w", encoding="utf-8") as f:
        f.write(text)
