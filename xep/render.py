#!/usr/bin/env python3
"""render.py - the readable Markdown of a XEP from its XML source.

    python3 xep/render.py [-o OUT] [--dtd-path DIR] xep/synckey.xml

Python 3 standard library only (pyexpat).  The XSF's document type and
entities (xep.dtd, xep.ent) are read from --dtd-path (default: xsf/ beside
the document, where xep/ vendors them), so &LEGALNOTICE; and &xep0030;
expand as they do in the XSF's own build.  Sections are numbered as the
XSF numbers them (1, 1.1, ...); internal links show the section's number
and title; <note/>s become numbered footnotes at the end.

The output is for reading; the XML is the specification.  Exit status 0 on
success, 1 with a message naming the cause (parse error, unknown element).
"""
import argparse
import os
import re
import sys
import textwrap
from xml.parsers import expat

WIDTH = 72


class Node:
    __slots__ = ('tag', 'attrs', 'kids')

    def __init__(self, tag, attrs):
        self.tag, self.attrs, self.kids = tag, attrs, []

    def elems(self, tag=None):
        return [k for k in self.kids if isinstance(k, Node) and (tag is None or k.tag == tag)]

    def first(self, tag):
        found = self.elems(tag)
        return found[0] if found else None

    def text(self):
        return ''.join(k if isinstance(k, str) else k.text() for k in self.kids)


def parse(path, dtd_dirs):
    """The document as a Node tree, with the external DTD and entities loaded."""
    root = Node('#doc', {})
    stack = [root]

    def start(tag, attrs):
        node = Node(tag, attrs)
        stack[-1].kids.append(node)
        stack.append(node)

    def end(_tag):
        stack.pop()

    def chars(data):
        kids = stack[-1].kids
        if kids and isinstance(kids[-1], str):
            kids[-1] += data
        else:
            kids.append(data)

    def wire(p):
        p.StartElementHandler = start
        p.EndElementHandler = end
        p.CharacterDataHandler = chars
        p.ExternalEntityRefHandler = external
        p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_ALWAYS)

    def external(context, _base, system_id, _public_id):
        name = os.path.basename(system_id or '')
        for d in dtd_dirs:
            f = os.path.join(d, name)
            if os.path.isfile(f):
                sub = parser.ExternalEntityParserCreate(context)
                wire(sub)
                with open(f, 'rb') as fh:
                    sub.ParseFile(fh)
                return 1
        raise ValueError('%s: not found in %s' % (system_id, ', '.join(dtd_dirs)))

    parser = expat.ParserCreate()
    wire(parser)
    parser.UseForeignDTD(False)
    with open(path, 'rb') as fh:
        parser.ParseFile(fh)
    xep = root.first('xep')
    if xep is None:
        raise ValueError('no <xep/> element')
    return xep


class Renderer:
    def __init__(self, xep):
        self.xep = xep
        self.notes = []
        self.examples = 0
        self.numbers = {}   # anchor -> (number, title)
        self._number(xep, 1, '')

    def _number(self, node, level, prefix):
        n = 0
        for s in node.elems('section%d' % level):
            n += 1
            num = '%s%d' % (prefix, n)
            if s.attrs.get('anchor'):
                self.numbers[s.attrs['anchor']] = (num, s.attrs.get('topic', ''))
            self._number(s, level + 1, num + '.')

    # ---- inline ------------------------------------------------------------
    def inline(self, node):
        out = []
        for k in node.kids:
            if isinstance(k, str):
                out.append(re.sub(r'\s+', ' ', k))
                continue
            t = k.tag
            if t == 'tt':
                out.append('`%s`' % k.text())
            elif t == 'strong':
                out.append('**%s**' % self.inline(k).strip())
            elif t in ('em', 'dfn', 'cite'):
                out.append('*%s*' % self.inline(k).strip())
            elif t == 'link':
                url = k.attrs.get('url', '')
                label = self.inline(k).strip()
                if url.startswith('#') and url[1:] in self.numbers:
                    num, _title = self.numbers[url[1:]]
                    before = ''.join(out).rstrip()
                    word = 'Section' if not before or before[-1] in '.!?' else 'section'
                    out.append('%s %s "%s"' % (word, num, label))
                elif url.startswith('#'):
                    out.append(label)
                else:
                    out.append('[%s](%s)' % (label, url) if label != url else url)
            elif t == 'note':
                self.notes.append(self.inline(k).strip())
                out.append('[^%d]' % len(self.notes))
            elif t == 'br':
                out.append('\n')
            elif t in ('span', 'acronym'):
                out.append(self.inline(k))
            elif t == 'img':
                out.append('[image: %s]' % k.attrs.get('alt', ''))
            else:
                raise ValueError('<%s/> inside text is not rendered' % t)
        return ''.join(out)

    @staticmethod
    def wrap(text, first='', rest=''):
        text = re.sub(r'^([#>])', r'\\\1', text.strip())
        paras = [p.strip() for p in text.split('\n')]
        lines = []
        for i, p in enumerate(paras):
            lines.extend(textwrap.wrap(p, WIDTH, initial_indent=first if i == 0 else rest,
                                       subsequent_indent=rest, break_long_words=False,
                                       break_on_hyphens=False) or [first.rstrip()])
        return '\n'.join(lines)

    # ---- blocks ------------------------------------------------------------
    def blocks(self, node, indent=''):
        """Block children of node as a list of Markdown chunks."""
        out = []
        loose = []   # inline content directly inside (li, dd, td)

        def flush():
            if loose:
                tmp = Node('#p', {})
                tmp.kids = list(loose)
                text = self.inline(tmp).strip()
                if text:
                    out.append(self.wrap(text, indent, indent))
                loose.clear()

        for k in node.kids:
            if isinstance(k, str) or k.tag in ('tt', 'strong', 'em', 'link', 'note', 'span', 'cite',
                                               'dfn', 'br', 'acronym', 'img'):
                loose.append(k)
                continue
            flush()
            out.extend(self.block(k, indent))
        flush()
        return out

    def block(self, k, indent):
        t = k.tag
        if t == 'p':
            return [self.wrap(self.inline(k).strip(), indent, indent)]
        if t in ('ul', 'ol'):
            items = []
            for n, li in enumerate(k.elems('li'), 1):
                mark = '- ' if t == 'ul' else '%d. ' % n
                pad = indent + ' ' * len(mark)
                sub = self.blocks(li, pad) or [pad]
                sub[0] = indent + mark + sub[0][len(pad):]
                items.append(('\n\n' if li.elems('p') else '\n').join(sub))
            return ['\n'.join(items)]
        if t == 'dl':
            out = []
            for di in k.elems('di'):
                dt = self.inline(di.first('dt')).strip()
                dd = self.inline(di.first('dd')).strip()
                out.append('%s%s\n%s' % (indent, dt, self.wrap(dd, indent + ': ', indent + '  ')))
            return out
        if t == 'table':
            rows = k.elems('tr')
            cells = [[self.inline(c).strip().replace('|', '\\|') for c in r.elems()] for r in rows]
            out = []
            if k.attrs.get('caption'):
                out.append(indent + '*%s*' % k.attrs['caption'])
            lines = ['| ' + ' | '.join(cells[0]) + ' |', '|' + ' --- |' * len(cells[0])]
            lines += ['| ' + ' | '.join(r) + ' |' for r in cells[1:]]
            out.append('\n'.join(indent + ln for ln in lines))
            return out
        if t in ('example', 'code'):
            body = k.text()
            body = body[1:] if body.startswith('\n') else body
            body = body[:-1] if body.endswith('\n') else body
            out = []
            cap = k.attrs.get('caption', '')
            if t == 'example':
                self.examples += 1
                out.append(indent + '*Example %d. %s*' % (self.examples, cap))
            elif cap:
                out.append(indent + '*%s*' % cap)
            lang = 'xml' if body.lstrip().startswith('<') else ''
            out.append('\n'.join([indent + '```' + lang] + [(indent + ln) if ln else ln for ln in
                                                           body.split('\n')] + [indent + '```']))
            return out
        if t == 'div':
            return self.blocks(k, indent)
        if t == 'blockquote':
            return [self.wrap(self.inline(k).strip(), indent + '> ', indent + '> ')]
        if t == 'cve':
            return [indent + 'CVE-%s: %s' % (k.attrs.get('id', ''), self.inline(k).strip())]
        if re.match(r'section[1-5]$', t):
            return self.section(k, int(t[-1]))
        raise ValueError('<%s/> is not rendered' % t)

    def section(self, s, level):
        num, title = self.numbers.get(s.attrs.get('anchor'), ('', s.attrs.get('topic', '')))
        if level == 1:
            head = '%s. %s' % (num, title)
            out = [head + '\n' + '-' * len(head)]
        else:
            out = ['%s %s %s' % ('#' * (level + 1), num, title)]
        return out + self.blocks(s)

    # ---- the document ------------------------------------------------------
    def render(self):
        h = self.xep.first('header')
        get = lambda tag: (h.first(tag).text().strip() if h.first(tag) is not None else '')
        title = 'XEP-%s: %s' % (get('number'), get('title'))
        out = [title + '\n' + '=' * len(title)]
        revs = h.elems('revision')
        authors = []
        for a in h.elems('author'):
            name = ' '.join(x for x in (a.first('firstname').text(), a.first('surname').text()) if x)
            mail = a.first('email')
            authors.append(name + (' (%s)' % mail.text() if mail is not None else ''))
        deps = ', '.join(s.text() for s in h.first('dependencies').elems('spec'))
        rows = [('Abstract', get('abstract')), ('Author', ', '.join(authors)),
                ('Status', get('status')), ('Type', get('type')), ('SIG', get('sig')),
                ('Version', '%s (%s)' % (revs[0].first('version').text(), revs[0].first('date').text())),
                ('Dependencies', deps), ('Short name', get('shortname'))]
        out.append('| | |\n| --- | --- |\n' + '\n'.join('| %s | %s |' % r for r in rows))
        out.append('This file is generated from the XML source by xep/render.py; edit the XML.')
        legal = h.first('legal')
        if legal is not None:
            out.append('### Legal notice')
            out += [self.wrap(self.inline(part).strip()) for part in legal.elems()]
        out.append('### Revision history')
        lines = ['| Version | Date | Change |', '| --- | --- | --- |']
        for r in revs:
            rem = r.first('remark')
            text = ' '.join(self.inline(p).strip() for p in rem.elems('p')) or self.inline(rem).strip()
            lines.append('| %s | %s | %s |' % (r.first('version').text(), r.first('date').text(),
                                               text.replace('|', '\\|')))
        out.append('\n'.join(lines))
        for s in self.xep.elems('section1'):
            out += self.section(s, 1)
        if self.notes:
            out.append('Notes\n-----')
            out += ['[^%d]: %s' % (i, self.wrap(n, '', '    ')) for i, n in enumerate(self.notes, 1)]
        return '\n\n'.join(out) + '\n'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('xml')
    ap.add_argument('-o', '--output', help='write here instead of standard output')
    ap.add_argument('--dtd-path', action='append', help='where xep.dtd and xep.ent are')
    a = ap.parse_args()
    dirs = a.dtd_path or [os.path.join(os.path.dirname(os.path.abspath(a.xml)), 'xsf')]
    try:
        md = Renderer(parse(a.xml, dirs)).render()
    except (ValueError, OSError, expat.ExpatError) as e:
        print('render.py: %s: %s' % (a.xml, e), file=sys.stderr)
        return 1
    if a.output:
        tmp = a.output + '.tmp'
        with open(tmp, 'w', encoding='utf-8') as fh:
            fh.write(md)
        os.replace(tmp, a.output)
    else:
        sys.stdout.write(md)
    return 0


if __name__ == '__main__':
    sys.exit(main())
