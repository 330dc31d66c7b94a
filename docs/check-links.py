#!/usr/bin/env python3
# Walks the HTML that gi-docgen generated and fails on
#  - a link or image inside the site whose target file does not exist
#    (a Markdown page linking `design.md` instead of `design.html`, say),
#    or whose #fragment names no element of its target;
#  - a link to another namespace's type (gi-docgen's data-namespace links,
#    resolved by urlmap.js in the browser) whose namespace urlmap.js does
#    not map;
#  - an index page without the Website and Source links.
# Usage: check-links.py HTML_DIR URLMAP_JS
# SPDX-License-Identifier: MIT
import html.parser
import os
import re
import sys
import urllib.parse

html_dir, urlmap = sys.argv[1], sys.argv[2]
own_dir = os.path.realpath(html_dir)

mapped = set(re.findall(r"\[\s*['\"]([A-Za-z0-9]+)['\"]\s*,\s*['\"]https?://",
                        open(urlmap, encoding='utf-8').read()))


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links, self.ids, self.namespaces = [], set(), []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if 'id' in a:
            self.ids.add(a['id'])
        if tag == 'a' and 'name' in a:
            self.ids.add(a['name'])
        for key in ('href', 'src'):
            if a.get(key):
                self.links.append((tag, a[key]))
        if a.get('data-namespace'):
            self.namespaces.append((a['data-namespace'], a.get('data-link', '')))


pages = {}
for root, _, names in os.walk(html_dir):
    for name in names:
        if name.endswith('.html'):
            path = os.path.realpath(os.path.join(root, name))
            page = Page()
            page.feed(open(path, encoding='utf-8').read())
            pages[path] = page

problems = []
for path, page in sorted(pages.items()):
    rel = os.path.relpath(path, own_dir)
    for tag, link in page.links:
        url = urllib.parse.urlsplit(link)
        if url.scheme or link.startswith('//'):
            continue   # external: http(s), mailto, javascript:void(0)
        target = path if not url.path else os.path.realpath(
            os.path.join(os.path.dirname(path), urllib.parse.unquote(url.path)))
        if not os.path.exists(target):
            problems.append(f'{rel}: dead link <{tag}> {link}')
        elif url.fragment and target in pages and url.fragment not in pages[target].ids:
            problems.append(f'{rel}: {link}: no element with id "{url.fragment}"')
    for namespace, link in page.namespaces:
        if namespace not in mapped:
            problems.append(f'{rel}: link to {namespace} ({link}): '
                            f'namespace not mapped in {os.path.basename(urlmap)}')

index = os.path.join(own_dir, 'index.html')
if index in pages:
    text = open(index, encoding='utf-8').read()
    for row in ('Website', 'Source'):
        if not re.search(r'<em>' + row + r'</em>\s*</td>\s*<td>\s*<a href="https?://[^"]+"', text):
            problems.append(f'index.html: no {row} link')
else:
    problems.append('index.html missing')

for problem in problems:
    print(problem)
n_links = sum(len(p.links) + len(p.namespaces) for p in pages.values())
print(f'{len(pages)} pages, {n_links} links checked, {len(problems)} problems')
sys.exit(1 if problems else 0)
