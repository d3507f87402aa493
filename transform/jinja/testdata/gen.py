#!/usr/bin/env python3
"""Generate the differential corpus for transform/jinja.

Each case is a template, a JSON context and what Python's Jinja2 (3.1)
produces for it when configured as dbt-common configures it: a sandboxed
environment with the do and loopcontrols extensions, no trim_blocks /
lstrip_blocks, the default Undefined, a return() global whose value a macro
call returns, and block tags (docs, test, materialization) that define macros.

Run:  python3 testdata/gen.py   (writes testdata/corpus.json)
The Go tests read only corpus.json; Python is not needed to run them.
"""
import ast
import itertools
import json
import os
import sys

import jinja2
import jinja2.nativetypes
import jinja2.nodes
import jinja2.runtime
from jinja2.ext import Extension
from jinja2.sandbox import SandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))


class MacroReturn(Exception):
    """Raised by return(); carries the macro's result."""

    def __init__(self, value):
        self.value = value


def _return(value=None):
    raise MacroReturn(value)


_orig_invoke = jinja2.runtime.Macro._invoke


def _invoke(self, arguments, autoescape):
    try:
        return _orig_invoke(self, arguments, autoescape)
    except MacroReturn as e:
        return e.value


jinja2.runtime.Macro._invoke = _invoke


class MacroBlock(Extension):
    """A block tag that defines a macro named by prefix + header name."""

    prefix = ""

    def parse(self, parser):
        node = jinja2.nodes.Macro(lineno=next(parser.stream).lineno)
        name = parser.parse_assign_target(name_only=True).name
        node.args, node.defaults = [], []
        suffix = ""
        if parser.stream.current.type == "lparen":
            parser.parse_signature(node)
        while parser.stream.skip_if("comma"):
            key = parser.stream.expect("name").value
            parser.stream.expect("assign")
            value = parser.parse_expression()
            if key == "adapter":
                suffix = "_" + value.value
        if self.prefix == "materialization_" and not suffix:
            suffix = "_default"
        node.name = self.prefix + name + suffix
        node.body = parser.parse_statements(("name:end" + self.tag,), drop_needle=True)
        return node


class DocsExt(MacroBlock):
    tags = {"docs"}
    tag = "docs"
    prefix = "doc_"


class TestExt(MacroBlock):
    tags = {"test"}
    tag = "test"
    prefix = "test_"


class MatExt(MacroBlock):
    tags = {"materialization"}
    tag = "materialization"
    prefix = "materialization_"


LOADER = {
    "header.sql": "-- header for {{ name }}",
    "loop.sql": "{% for i in items %}[{{ i }}]{% endfor %}",
    "macros.sql": "{% macro hello(who='x') %}hello {{ who }}{% endmacro %}"
    "{% macro shout(s) %}{{ s|upper }}!{% endmacro %}"
    "{% set version = 3 %}{% set _private = 1 %}",
    "caller.sql": "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}"
    "{% macro each(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}",
    "uses_ctx.sql": "{% macro who() %}{{ name }}{% endmacro %}",
    "nested.sql": "A{% include 'header.sql' %}B",
    "ret.sql": "{% macro cols() %}{{ return(['id', 'name']) }}{% endmacro %}",
    "setter.sql": "{% set inner = 'set in include' %}{{ inner }}",
    "base.html": "<head>{% block head %}<title>{% block title %}T{% endblock %}</title>{% endblock %}</head>"
    "<body>{% block body %}base body{% endblock %}</body>",
    "child.html": "{% extends 'base.html' %}{% block title %}Child{% endblock %}"
    "{% block body %}[{{ super() }}] child {{ name }}{% endblock %}ignored text",
    "grandchild.html": "{% extends 'child.html' %}{% block body %}gc<{{ super() }}>{% endblock %}",
    "dyn.html": "{% extends layout %}{% block body %}dyn{% endblock %}",
    "ctxmacros.sql": "{% set top = 'module top' %}{% macro show() %}{{ top }}/{{ name }}/{{ kwargs }}{% endmacro %}"
    "{% macro outer_caller() %}[{{ caller() }}]{% endmacro %}{% macro rec(n) %}{{ n }}{% if n > 0 %}{{ rec(n - 1) }}{% endif %}{% endmacro %}",
    "imports_other.sql": "{% import 'macros.sql' as inner %}{% macro via() %}{{ inner.shout('x') }}{% endmacro %}",
}


class TextMark(str):
    """as_text in native mode: keep as text."""


class NativeMark(str):
    """as_native in native mode: read as a Python literal."""


class BoolMark(NativeMark):
    """as_bool: a literal that must be a bool."""


class NumberMark(NativeMark):
    """as_number: a literal that must be a number."""


def dbt_native_concat(nodes):
    """dbt's concatenation of native output nodes (dbt-common's
    quoted_native_concat), written out for this corpus."""
    head = list(itertools.islice(nodes, 2))
    if not head:
        return ""
    if len(head) > 1:
        return "".join(str(v) for v in itertools.chain(head, nodes))
    raw = head[0]
    if isinstance(raw, TextMark):
        return str(raw)
    if not isinstance(raw, NativeMark):
        return raw
    try:
        result = ast.literal_eval(raw)
    except (ValueError, SyntaxError, MemoryError):
        result = raw
    if isinstance(raw, BoolMark) and not isinstance(result, bool):
        raise ValueError("Could not convert value %r into type 'bool'" % str(raw))
    if isinstance(raw, NumberMark) and (isinstance(result, bool) or not isinstance(result, (int, float))):
        raise ValueError("Could not convert value %r into type 'number'" % str(raw))
    return result


class NativeEnv(SandboxedEnvironment):
    """dbt's native environment: Jinja2's native code generator."""

    code_generator_class = jinja2.nativetypes.NativeCodeGenerator


class NativeTmpl(jinja2.Template):
    def render(self, ctx):  # noqa: D102
        return dbt_native_concat(self.root_render_func(self.new_context(ctx)))


NativeEnv.template_class = NativeTmpl


def make_native_env():
    env = NativeEnv(
        extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols", DocsExt, TestExt, MatExt],
        loader=jinja2.DictLoader(LOADER),
    )
    env.globals["return"] = _return
    env.filters.update({"as_text": TextMark, "as_bool": BoolMark, "as_native": NativeMark, "as_number": NumberMark,
                        "is_list": lambda value: isinstance(value, list)})
    return env


def make_env():
    env = SandboxedEnvironment(
        extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols", DocsExt, TestExt, MatExt],
        loader=jinja2.DictLoader(LOADER),
    )
    env.globals["return"] = _return
    # dbt's text-mode filters: the native markers are identities, is_list a type check
    for name in ("as_text", "as_bool", "as_native", "as_number"):
        env.filters[name] = lambda value: value
    env.filters["is_list"] = lambda value: isinstance(value, list)
    return env


CTX = {
    "name": "World",
    "n": 7,
    "f": 2.5,
    "neg": -3,
    "zero": 0,
    "big": 12345678901234567890,
    "items": [1, 2, 3],
    "words": ["b", "a", "C"],
    "empty": [],
    "d": {"a": 1, "b": 2},
    "nested": {"x": {"y": [10, 20, {"z": "deep"}]}},
    "users": [
        {"name": "alice", "age": 30, "city": "Paris"},
        {"name": "bob", "age": 25, "city": "Berlin"},
        {"name": "carol", "age": 35, "city": "paris"},
    ],
    "s": "  Hello, World  ",
    "csv": "a,b,,c",
    "t": True,
    "fl": False,
    "none": None,
    "html": "<a href='x'>T&C</a>",
    "cols": ["id", "name", "created_at", "_loaded_at"],
    "rel": {"database": "db", "schema": "sch", "identifier": "orders"},
    "target_type": "duckdb",
    "relations": [
        {"name": "orders_eu", "columns": [{"name": "id", "type": "int"}, {"name": "amount", "type": "numeric"}]},
        {"name": "orders_us", "columns": [{"name": "id", "type": "int"}, {"name": "region", "type": "text"}]},
    ],
}

CASES = []


def case(group, template, **extra):
    CASES.append((group, template, extra))


def cases(group, *templates):
    for t in templates:
        case(group, t)


# ---------------------------------------------------------------- text
cases(
    "text",
    "hello",
    "",
    "line1\nline2\n",
    "trailing newlines\n\n",
    "crlf\r\nline\r\n",
    "{# a comment #}x",
    "a {#- trimmed comment -#} b",
    "a\n{# c #}\nb",
    "{% raw %}{{ not rendered }}{% endraw %}",
    "{% raw -%}  {{ x }}  {%- endraw %}",
    "x  {%- raw %} r {% endraw -%}  y",
    "a {{- ' b ' -}} c",
    "a\n  {%- if true %}\n  b\n  {%- endif %}\nc",
    "a\n{% if true %}\nb\n{% endif %}\nc",
    "{% for i in items -%}\n  {{ i }}\n{%- endfor %}",
    "{% for i in items %}\n  {{ i }}\n{% endfor %}",
    "  {%+ if true %}x{% endif %}",
    "{{ '{{' }} literal {{ '}}' }}",
    "{ not a tag } {% if true %}{ still }{% endif %}",
    "{{ name }}{{name}}{{  name  }}",
    "{{- name -}}",
    "  \n  {{- name }}  \n",
    "a{%- set x = 1 -%}  \n  b",
    "{% set x = 1 %}\n{{ x }}",
    "{#\n multi\n line\n#}done",
    "unicode: héllo ✓ {{ 'ünï' }}",
    "tabs\there {{ '\\t' }}|",
    "{{ \"double\" }} {{ 'single' }} {{ 'it\\'s' }}",
    "{{ 'a' 'b' \"c\" }}",
    "{{ '\\n'|length }} {{ '\\x41\\u00e9' }} {{ '\\q' }}",
    "{% if true %}yes{% else %}no{% endif %}\n",
    "{{ 1 }}\n\n{{ 2 }}",
    "{%- for i in range(3) %}{{ i }}{% endfor -%}\n",
    "{% for i in range(2) %}\n{{ i }}\n{%- endfor %}",
    "x{#-#}y{#--#}z",
    "{% raw %}{% if %}{#{% endraw %}",
)

# ---------------------------------------------------------------- literals / rendering
cases(
    "literals",
    "{{ none }} {{ None }} {{ true }} {{ True }} {{ false }} {{ False }}",
    "{{ 42 }} {{ -7 }} {{ 1_000_000 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }}",
    "{{ 1.5 }} {{ 2.0 }} {{ 1e3 }} {{ 1.5e-7 }} {{ 0.1 + 0.2 }} {{ 1e16 }} {{ 123456789012345678.0 }}",
    "{{ (1, 2) }} {{ (1,) }} {{ () }} {{ [] }} {{ {} }}",
    "{{ [1, 'a', none, true, 2.5, (1, 'b'), {'k': [1]}] }}",
    "{{ {'a': 1, 'b': 'x', 'c': none} }}",
    "{{ {1: 'one', 2.5: 'f', true: 'T'} }}",
    "{{ 'quote\\'s' }} {{ ['it\\'s', \"say \\\"hi\\\"\", 'both \\' \"'] }}",
    "{{ ['new\\nline', 'tab\\t', 'back\\\\slash'] }}",
    "{{ [1, 2,] }} {{ (1, 2,) }} {{ {'a': 1,} }}",
    "{{ big }} {{ big + 1 }} {{ -big }}",
    "{{ 10 ** 20 }} {{ 2 ** 100 }}",
    "{{ items }} {{ d }} {{ nested }}",
    "{{ 1, 2 }}",
    "{{ f }} {{ n }} {{ neg }}",
    "{{ 3.0 * 2 }} {{ 7 / 2 }} {{ 6 / 3 }}",
    "{{ 1e-5 }} {{ 0.0001 }} {{ -0.0 }} {{ 1e22 }} {{ 1.23456789e-10 }}",
    "{{ 100000000000000000000.0 }} {{ 9999999999999998.0 }}",
    "{{ [none, [none]] }} {{ (none,) }}",
    "{{ {'a': {'b': (1, [2])}} }}",
    "{{ 'é' }} {{ ['é', '✓'] }}",
    "{{ ('a' ~ 1, 2 ~ 'b') }}",
    "{{ range(3) }} {{ range(1, 10, 2) }}",
    "{{ d.items() }} {{ d.keys() }} {{ d.values() }}",
    "{{ undefined_name }}|{{ d.missing }}|{{ items[10] }}",
    "{{ ['\\x01'] }}",
)

# ---------------------------------------------------------------- arithmetic
cases(
    "arith",
    "{{ 1 + 2 }} {{ 1 - 5 }} {{ 3 * 4 }} {{ 7 / 2 }} {{ 7 // 2 }} {{ 7 % 3 }} {{ 2 ** 10 }}",
    "{{ -7 // 2 }} {{ 7 // -2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ -7 % -3 }}",
    "{{ 7.5 // 2 }} {{ -7.5 // 2 }} {{ 7.5 % 2 }} {{ -7.5 % 2 }} {{ 7 % 2.5 }}",
    "{{ 2 ** -1 }} {{ 2.0 ** 3 }} {{ 4 ** 0.5 }} {{ (-8) ** 2 }}",
    "{{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ (-2) ** 3 }}",
    "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 10 - 2 - 3 }} {{ 100 / 10 / 5 }}",
    "{{ 1 + 1.0 }} {{ 3 - 0.5 }} {{ 2 * 0.5 }}",
    "{{ true + 1 }} {{ true * 3 }} {{ false - 1 }}",
    "{{ 'ab' * 3 }} {{ 3 * 'ab' }} {{ [1, 2] * 2 }} {{ (0,) * 3 }} {{ 'x' * 0 }} {{ 'x' * -1 }}",
    "{{ 'a' + 'b' }} {{ [1] + [2, 3] }} {{ (1,) + (2,) }}",
    "{{ 'a' ~ 1 ~ none ~ true ~ 1.5 }}",
    "{{ n * f }} {{ n // 2 }} {{ n % 4 }} {{ n / 7 }}",
    "{{ 9007199254740993 }} {{ 9007199254740993 + 1 }}",
    "{{ 9223372036854775807 + 1 }} {{ -9223372036854775808 - 1 }} {{ 9223372036854775807 * 2 }}",
    "{{ 2 ** 63 }} {{ 2 ** 64 // 3 }} {{ (2 ** 64) % 1000 }} {{ -(2 ** 64) // 7 }}",
    "{{ 10 ** 30 / 10 ** 10 }}",
    "{{ big * big }} {{ big // 7 }} {{ big % 97 }}",
    "{{ 0.1 * 3 }} {{ 1 / 3 }} {{ 2 / 3 }} {{ 10 / 4 }}",
    "{{ +n }} {{ -n }} {{ - -n }} {{ +f }}",
    "{{ 1 // 1.0 }} {{ 5 % 5.0 }} {{ 0.0 % 3 }}",
    "{{ -1|abs }} {{ -(1)|abs }}",
    "{{ 3 - -3 }} {{ 3 + -3 }}",
    "{{ 1e308 * 10 }}",
    "{{ 2 ** 0.5 }} {{ 10 ** -2 }}",
    "{{ n + items|length }}",
    "{{ (n > 5) + 1 }}",
)
for t in ["{{ 1 / 0 }}", "{{ 1 // 0 }}", "{{ 1 % 0 }}", "{{ 1.0 / 0 }}", "{{ 1.5 // 0 }}", "{{ 2.0 % 0 }}",
          "{{ 0 ** -1 }}", "{{ 'a' + 1 }}", "{{ 1 + 'a' }}", "{{ [1] + (2,) }}", "{{ 'a' - 'b' }}",
          "{{ none + 1 }}", "{{ undefined_x + 1 }}", "{{ 1 + undefined_x }}", "{{ -'a' }}", "{{ 'a' * 'b' }}",
          "{{ {} + {} }}", "{{ 'a' * 1.5 }}", "{{ -undefined_x }}", "{{ d * 2 }}"]:
    case("arith_err", t)

# ---------------------------------------------------------------- comparisons / logic
cases(
    "compare",
    "{{ 1 < 2 }} {{ 2 <= 2 }} {{ 3 > 4 }} {{ 4 >= 4 }} {{ 1 == 1.0 }} {{ 1 != 2 }}",
    "{{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }} {{ 3 > 2 > 1 }} {{ 1 == 1 == 1 }} {{ 1 < 2 > 0 }}",
    "{{ 'a' < 'b' }} {{ 'B' < 'a' }} {{ 'abc' < 'abd' }} {{ [1, 2] < [1, 3] }} {{ (1, 2) == (1, 2) }} {{ [1] == [1] }}",
    "{{ true == 1 }} {{ false == 0 }} {{ none == none }} {{ none == 0 }} {{ '1' == 1 }}",
    "{{ 1 in items }} {{ 5 in items }} {{ 5 not in items }} {{ 'a' in d }} {{ 'z' not in d }} {{ 'ell' in 'hello' }}",
    "{{ not true }} {{ not 0 }} {{ not [] }} {{ not 'x' }} {{ not none }}",
    "{{ 1 and 2 }} {{ 0 and 2 }} {{ 0 or 'b' }} {{ '' or none }} {{ none or 0 }} {{ [] or {} }}",
    "{{ true and false or true }} {{ true or false and false }} {{ not true or true }} {{ not (true or true) }}",
    "{{ 'yes' if t else 'no' }} {{ 'yes' if fl else 'no' }} {{ 'x' if none }}|",
    "{{ 1 if 0 else 2 if 0 else 3 }}",
    "{{ [1 if t else 2, 3 if fl else 4] }} {{ {'k': 'v' if t else 'w'} }} {{ ('a' if fl else 'b',) }}",
    "{{ (1 if fl else 2) + 10 }} {{ 'x' ~ ('a' if t else 'b') }}",
    "{{ items|join(',') if items else 'none' }}",
    "{{ 1 == 1 and 2 == 2 }} {{ 1 in [1] and 2 in [2] }}",
    "{{ 'x' in ['x', 'y'] == true }}",
    "{{ none is none }} {{ 1 is not none }} {{ undefined_x is defined }} {{ n is defined }} {{ undefined_x is undefined }}",
    "{{ 3 is odd }} {{ 3 is even }} {{ 4 is divisibleby 2 }} {{ 4 is divisibleby(3) }} {{ 9 is divisibleby 3 }}",
    "{{ 'a' is string }} {{ 1 is string }} {{ 1 is number }} {{ 1.5 is number }} {{ true is number }} {{ 'x' is number }}",
    "{{ 1 is integer }} {{ 1.0 is integer }} {{ 1.0 is float }} {{ true is integer }} {{ true is boolean }} {{ 1 is boolean }}",
    "{{ d is mapping }} {{ items is mapping }} {{ items is sequence }} {{ 'ab' is sequence }} {{ d is sequence }} {{ 1 is sequence }}",
    "{{ items is iterable }} {{ 'ab' is iterable }} {{ 1 is iterable }} {{ d is iterable }} {{ range(2) is iterable }}",
    "{{ true is true }} {{ 1 is true }} {{ false is false }} {{ 0 is false }}",
    "{{ 'abc' is lower }} {{ 'ABC' is upper }} {{ 'Abc' is lower }} {{ '123' is lower }}",
    "{{ 1 is eq 1 }} {{ 1 is ne 2 }} {{ 1 is lt 2 }} {{ 2 is le 2 }} {{ 3 is gt 2 }} {{ 3 is ge 4 }} {{ 1 is equalto 1 }} {{ 2 is greaterthan 1 }} {{ 1 is lessthan 2 }}",
    "{{ 1 is == 1 }} {{ 1 is != 1 }} {{ 2 is > 1 }} {{ 2 is >= 3 }} {{ 1 is < 2 }} {{ 1 is <= 0 }}",
    "{{ 2 is in items }} {{ 9 is in items }} {{ 'a' is in 'abc' }}",
    "{{ none is sameas none }} {{ true is sameas true }} {{ items is sameas items }} {{ [] is sameas [] }}",
    "{{ 'upper' is filter }} {{ 'nope' is filter }} {{ 'odd' is test }} {{ 'nope' is test }}",
    "{{ range is callable }} {{ 1 is callable }} {{ d.items is callable }} {{ undefined_x is callable }}",
    "{{ 'x'|e is escaped }} {{ 'x' is escaped }}",
    "{{ not 1 is odd }} {{ not 2 is odd }} {{ 2 is not odd }}",
    "{{ 1 is number and 2 is number }} {{ items|length is odd }}",
    "{{ users[0].age is gt 20 }}",
    "{{ (n > 3) is true }}",
    "{% if n > 5 and name == 'World' %}both{% endif %}",
    "{% if not undefined_x %}undef falsy{% endif %}",
    "{% if items and\n   d %}multi\nline{% endif %}",
    "{{ 1\n  +\n  2 }}",
    "{{ (1,\n 2) }} {{ [\n1,\n2\n] }}",
)
for t in ["{{ 1 < 'a' }}", "{{ [1] < (1,) }}", "{{ none < 1 }}", "{{ undefined_x < 1 }}", "{{ 1 in 1 }}", "{{ 1 in 'abc' }}",
          "{{ {} < {} }}", "{{ 1 is divisibleby 0 }}", "{{ 1 is nosuchtest }}", "{{ 'a' is odd }}"]:
    case("compare_err", t)

# ---------------------------------------------------------------- attributes / subscripts
cases(
    "access",
    "{{ d.a }} {{ d['b'] }} {{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 9) }}",
    "{{ nested.x.y[2].z }} {{ nested['x']['y'][-1]['z'] }} {{ nested.x.y.0 }}",
    "{{ items[0] }} {{ items[-1] }} {{ items[1:] }} {{ items[:2] }} {{ items[::-1] }} {{ items[::2] }} {{ items[-2:] }}",
    "{{ 'hello'[1] }} {{ 'hello'[1:3] }} {{ 'hello'[::-1] }} {{ 'hello'[-3:] }} {{ 'hello'[:-1] }}",
    "{{ (1, 2, 3)[1:] }} {{ range(10)[2:5] }} {{ range(10)[-1] }}",
    "{{ items[5:] }} {{ items[10] }}|{{ 'abc'[10:] }}|{{ items[1:1] }}",
    "{{ items[0:3:2] }} {{ 'abcdef'[::3] }} {{ 'abcdef'[4:1:-1] }} {{ items[none:2] }}",
    "{{ users[1].name }} {{ users[1]['age'] }} {{ users|length }}",
    "{{ d.items is callable }}",
    "{{ d['items'] is callable }} {{ {'items': 1}.items is callable }} {{ {'items': 1}['items'] }}",
    "{{ rel.database }}.{{ rel.schema }}.{{ rel.identifier }}",
    "{{ d.a.b }}",
    "{{ d.missing }}|{{ d.missing is defined }}|{{ d['missing'] is defined }}",
    "{{ items.append is callable }} {{ 'x'.upper is defined }}",
    "{{ 'x'.__class__ }}|{{ d._private }}|",
    "{{ n.real }} {{ f.real }} {{ f.is_integer() }}",
    "{{ {'a': {'b': 1}}['a']['b'] }} {{ [[1, 2], [3]][0][1] }}",
    "{{ {(1, 2): 'tuple key'}[(1, 2)] }}",
    "{{ {1: 'one'}[1.0] }} {{ {true: 'T'}[1] }}",
)
for t in ["{{ undefined_x.y }}", "{{ undefined_x['y'] }}", "{{ d.missing.y }}", "{{ items[10].y }}", "{{ none.y }}|",
          "{{ 1[0] }}", "{{ items['a':] }}", "{{ items[::0] }}", "{{ d[[1]] }}", "{{ undefined_x() }}", "{{ d.missing() }}",
          "{{ none() }}", "{{ 1() }}", "{{ {[1]: 2} }}"]:
    case("access_err", t)

# ---------------------------------------------------------------- string methods
cases(
    "str_methods",
    "{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a b c'.split(' ', 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ '  x  y  '.rsplit(None, 1) }}",
    "{{ ', '.join(['a', 'b']) }} {{ ''.join(words) }} {{ '-'.join('abc') }}",
    "{{ 'hello'.replace('l', 'L') }} {{ 'hello'.replace('l', 'L', 1) }} {{ 'abc'.replace('', '-') }}",
    "[{{ s.strip() }}] [{{ s.lstrip() }}] [{{ s.rstrip() }}] [{{ 'xxhixx'.strip('x') }}] [{{ '--a--'.lstrip('-') }}]",
    "{{ 'Hello'.lower() }} {{ 'Hello'.upper() }} {{ 'hello world'.title() }} {{ 'hELLO'.capitalize() }} {{ 'Hello'.swapcase() }}",
    "{{ 'hello'.startswith('he') }} {{ 'hello'.endswith('lo') }} {{ 'hello'.startswith(('x', 'h')) }} {{ 'hello'.startswith('l', 2) }}",
    "{{ 'hello'.find('l') }} {{ 'hello'.find('z') }} {{ 'hello'.rfind('l') }} {{ 'hello'.index('e') }} {{ 'hello'.count('l') }}",
    "{{ '{} and {}'.format('a', 'b') }} {{ '{1}{0}'.format('a', 'b') }} {{ '{x}-{y}'.format(x=1, y=2) }}",
    "{{ '{:>5}|{:<5}|{:^5}'.format('a', 'b', 'c') }} {{ '{:05d}'.format(42) }} {{ '{:.2f}'.format(3.14159) }} {{ '{:,}'.format(1234567) }}",
    "{{ '{!r}'.format('x') }} {{ '{0[0]}'.format(items) }} {{ '{0.a}'.format(d) }}|{{ '{:x}'.format(255) }} {{ '{:#b}'.format(5) }}",
    "{{ '{:+d}'.format(5) }} {{ '{:e}'.format(12345.678) }} {{ '{:%}'.format(0.25) }} {{ '{:g}'.format(0.00001234) }} {{ '{}'.format(1.0) }}",
    "{{ '{{}}{}'.format(1) }} {{ '{:*^9}'.format('mid') }} {{ '{:=+8.2f}'.format(-3.5) }}",
    "{{ 'abc'.center(9, '*') }} {{ 'abc'.ljust(6, '.') }} {{ 'abc'.rjust(6) }} {{ '42'.zfill(5) }} {{ '-42'.zfill(5) }}",
    "{{ 'a=b=c'.partition('=') }} {{ 'a=b=c'.rpartition('=') }} {{ 'abc'.partition('x') }}",
    "{{ '123'.isdigit() }} {{ 'abc'.isalpha() }} {{ 'ab1'.isalnum() }} {{ '  '.isspace() }} {{ 'abc'.islower() }} {{ 'ABC'.isupper() }} {{ 'Ab Cd'.istitle() }}",
    "{{ 'line1\\nline2\\r\\nline3'.splitlines() }} {{ 'prefix_name'.removeprefix('prefix_') }} {{ 'file.sql'.removesuffix('.sql') }}",
    "{{ name.upper() }} {{ name|upper }} {{ name.lower().startswith('w') }}",
    "{{ 'a b'.split(' ')|length }} {{ csv.split(',')[2] == '' }}",
    "{{ 'CamelCase'.lower() }} {{ 'x'.join(['1', '2', '3']) }}",
    "{{ 'hello'.count('l', 3) }} {{ 'hello'.find('l', 3) }} {{ 'hello'.endswith('l', 0, 4) }}",
    "{{ 'ß'.upper() }} {{ 'ǅ'.lower() }}",
    "{{ 'a\\tb'.split() }} {{ 'a\\nb c'.split(None) }}",
    "{{ '%s' % 'x' }} {{ 'x=%s' % 5 }} {{ '%d items' % 3 }} {{ '%s-%s' % ('a', 'b') }} {{ '%(k)s!' % {'k': 'v'} }}",
    "{{ '%5s|%-5s|' % ('a', 'b') }} {{ '%05d' % 42 }} {{ '%.2f' % 3.14159 }} {{ '%x %X %o' % (255, 255, 8) }} {{ '%e' % 1234.5 }}",
    "{{ '%r' % 'x' }} {{ '%s' % [1, 2] }} {{ '%s' % none }} {{ '%%' % () }} {{ '%+d' % 5 }} {{ '%g' % 0.5 }} {{ '%i' % 3.9 }}",
    "{{ '%s' % (items,) }} {{ '%.3s' % 'abcdef' }} {{ '%*d' % (5, 42) }} {{ '%c' % 65 }}",
    "{{ 'ab'.split('') if false else 'ok' }}",
)
for t in ["{{ '%d' % 'x' }}", "{{ '%s %s' % 'a' }}", "{{ '%s' % (1, 2) }}", "{{ '{}'.format() }}", "{{ '{x}'.format(y=1) }}",
          "{{ 'a'.split('') }}", "{{ 'abc'.index('z') }}", "{{ '%(k)s' % {'j': 1} }}", "{{ '{0}{}'.format(1, 2) }}",
          "{{ '%z' % 1 }}", "{{ 'x'.join([1, 2]) }}", "{{ '{:d}'.format('a') }}"]:
    case("str_err", t)

# ---------------------------------------------------------------- list / dict methods, mutation
cases(
    "mutation",
    "{% set l = [] %}{% for i in range(3) %}{% do l.append(i) %}{% endfor %}{{ l }}",
    "{% set l = [1] %}{% do l.extend([2, 3]) %}{% do l.insert(0, 0) %}{{ l }} {{ l.pop() }} {{ l.pop(0) }} {{ l }}",
    "{% set l = [3, 1, 2] %}{% do l.sort() %}{{ l }}{% do l.reverse() %}{{ l }}{% do l.remove(1) %}{{ l }} {{ l.index(2) }} {{ l.count(3) }}",
    "{% set l = ['b', 'A', 'c'] %}{% do l.sort(reverse=true) %}{{ l }}",
    "{% set c = {} %}{% do c.update({'a': 1}) %}{% do c.update(b=2) %}{{ c }}",
    "{% set c = {'a': 1} %}{% for k in ['x', 'y'] %}{% do c.update({k: loop.index}) %}{% endfor %}{{ c }}",
    "{% set c = {'a': 1, 'b': 2} %}{{ c.pop('a') }} {{ c }} {{ c.pop('z', 'dflt') }} {{ c.setdefault('n', []) }} {{ c }}",
    "{% set c = {'a': 1} %}{% set c2 = c.copy() %}{% do c2.update({'b': 2}) %}{{ c }} {{ c2 }}",
    "{% set c = {'b': 1, 'a': 2} %}{% for k, v in c.items() %}{{ k }}={{ v }};{% endfor %}{{ c.keys()|list }} {{ c.values()|list }}",
    "{% set l = [] %}{% macro add(x) %}{% do l.append(x) %}{% endmacro %}{{ add(1) }}{{ add(2) }}{{ l }}",
    "{% set outer = {'rows': []} %}{% for u in users %}{% do outer.rows.append(u.name) %}{% endfor %}{{ outer.rows|join(',') }}",
    "{% set l = [1, 2] %}{% set m = l %}{% do m.append(3) %}{{ l }}",
    "{% set l = [[]] %}{% do l[0].append('x') %}{{ l }}",
    "{% set d2 = dict(a=1) %}{% do d2.update({'b': [1]}) %}{% do d2['b'].append(2) %}{{ d2 }}",
    "{% set l = [1, 2, 3] %}{{ l.copy() }} {% do l.clear() %}{{ l }}",
    "{% set t = (1, 2, 1) %}{{ t.count(1) }} {{ t.index(2) }}",
    "{% set c = {'a': 1} %}{{ c.popitem() }} {{ c }}",
    "{% set l = [] %}{% for u in users if u.age > 26 %}{% do l.append(u.name) %}{% endfor %}{{ l }}",
    "{% set l = [] %}{% if true %}{% do l.append(1) %}{% endif %}{{ l }}",
    "{{ items.append(4) }}{{ items }}",
    "{% set l = [2, 1] %}{{ l.sort() }}{{ l }}",
    "{% set l = ['a', 'b'] %}{{ l.pop(-2) }}{{ l }}",
)
for t in ["{% set l = [] %}{{ l.pop() }}", "{% set l = [1] %}{{ l.remove(5) }}", "{{ {}.pop('x') }}", "{{ [1].index(9) }}",
          "{{ [1, 'a'].sort() }}", "{{ d.update(1) }}"]:
    case("mutation_err", t)

# ---------------------------------------------------------------- control flow
cases(
    "control",
    "{% if n > 10 %}big{% elif n > 5 %}medium{% else %}small{% endif %}",
    "{% if fl %}a{% elif none %}b{% elif 0 %}c{% else %}d{% endif %}",
    "{% if n: %}colon{% endif %} {% for i in items: %}{{ i }}{% endfor %}",
    "{% if undefined_x %}x{% else %}undefined is false{% endif %}",
    "{% for i in items %}{{ loop.index }}:{{ loop.index0 }}:{{ loop.revindex }}:{{ loop.revindex0 }}:{{ loop.first }}:{{ loop.last }}:{{ loop.length }} {% endfor %}",
    "{% for i in items %}{{ loop.cycle('odd', 'even') }} {% endfor %}",
    "{% for i in items %}{{ loop.previtem }}-{{ loop.nextitem }}|{% endfor %}",
    "{% for i in items %}{{ loop.previtem is defined }}{% endfor %}",
    "{% for x in [1, 1, 2, 2, 1] %}{% if loop.changed(x) %}{{ x }}{% endif %}{% endfor %}",
    "{% for i in items %}{% for j in items %}{{ loop.depth }}{% endfor %}{{ loop.depth }}{% endfor %}",
    "{% for i in empty %}x{% else %}empty!{% endfor %}",
    "{% for i in items if i > 5 %}x{% else %}none matched{% endfor %}",
    "{% for i in items if i != 2 %}{{ i }}/{{ loop.length }}/{{ loop.last }} {% endfor %}",
    "{% for i in range(10) %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %}",
    "{% for i in range(5) %}{% if i is odd %}{% continue %}{% endif %}{{ i }}{% endfor %}",
    "{% for i in range(3) %}{% for j in range(3) %}{% if j > i %}{% break %}{% endif %}{{ i }}{{ j }} {% endfor %}{% endfor %}",
    "{% for k, v in d.items() %}{{ k }}={{ v }} {% endfor %}",
    "{% for k in d %}{{ k }}{% endfor %}",
    "{% for c in 'abc' %}{{ c }}.{% endfor %}",
    "{% for a, b in [(1, 2), (3, 4)] %}{{ a + b }} {% endfor %}",
    "{% for (a, b) in [[1, 2]] %}{{ a }}{{ b }}{% endfor %}",
    "{% for u in users %}{{ u.name }}{{ ', ' if not loop.last }}{% endfor %}",
    "{% for i in undefined_x %}x{% endfor %}done",
    "{% for i in items %}{% set x = i * 2 %}{{ x }}{% endfor %}|{{ x }}",
    "{% set x = 1 %}{% for i in range(2) %}{{ x }}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}",
    "{% for i in range(3) %}{% if i == 0 %}{% set y = 5 %}{% endif %}{{ y }},{% endfor %}",
    "{% for i in items %}{{ i }}{% endfor %}{{ i }}",
    "{% for i in range(3) %}{{ loop.index }}{% endfor %}{{ loop }}",
    "{% for item in [{'c': [{'c': []}, {'c': []}]}, {'c': []}] recursive %}<{{ loop.depth }}{{ loop(item.c) }}>{% endfor %}",
    "{% for n in [1, [2, [3]]] recursive %}{% if n is iterable %}{{ loop(n) }}{% else %}{{ n }}@{{ loop.depth0 }} {% endif %}{% endfor %}",
    "{% if true %}{% set inif = 'leaks' %}{% endif %}{{ inif }}",
    "{% for i in range(2) %}{% for j in range(2) %}{% if j %}{% continue %}{% endif %}{{ i }}{{ j }}{% endfor %}{% endfor %}",
    "{% for a in [1] %}{% for b in [2] %}{{ a }}{{ b }}{{ loop.index }}{% endfor %}{% endfor %}",
    "{% for x in range(3) %}{{ loop.cycle(*['a', 'b']) }}{% endfor %}",
    "{% for x in [] %}{% else %}{% for y in [1] %}{{ y }}{% endfor %}{% endfor %}",
    "{% for i in items %}{% if loop.first %}[{% endif %}{{ i }}{% if loop.last %}]{% endif %}{% endfor %}",
    "{% for i in range(3) %}{% for j in range(2) %}{{ loop.index }}{% endfor %}-{{ loop.index }} {% endfor %}",
    "{% for x in d.values() %}{{ x }}{% endfor %}",
    "{% for x in range(3)|reverse %}{{ x }}{% endfor %}",
    "{% for x, y in d|dictsort %}{{ x }}{{ y }}{% endfor %}",
)
for t in ["{% for a, b in [1, 2] %}{% endfor %}", "{% for a, b in [(1, 2, 3)] %}{% endfor %}", "{% for x in 5 %}{% endfor %}",
          "{% for x in none %}{% endfor %}", "{{ loop(1) }}", "{% for x in [1] %}{{ loop([]) }}{% endfor %}"]:
    case("control_err", t)

# ---------------------------------------------------------------- set / namespace / with
cases(
    "set",
    "{% set x = 5 %}{{ x }}",
    "{% set a, b = 1, 2 %}{{ a }}{{ b }}",
    "{% set a, b = [3, 4] %}{{ a + b }}",
    "{% set (a, b), c = (1, 2), 3 %}{{ a }}{{ b }}{{ c }}",
    "{% set x = 1, 2 %}{{ x }}",
    "{% set x %}block {{ name }}{% endset %}[{{ x }}]",
    "{% set x | upper %}shout {{ name }}{% endset %}{{ x }}",
    "{% set x | trim | replace(' ', '_') %}  a b c  {% endset %}{{ x }}",
    "{% set ns = namespace(count=0) %}{% for i in items %}{% set ns.count = ns.count + i %}{% endfor %}{{ ns.count }}",
    "{% set ns = namespace(found=false) %}{% for u in users %}{% if u.age > 30 %}{% set ns.found = u.name %}{% endif %}{% endfor %}{{ ns.found }}",
    "{% set ns = namespace(d) %}{{ ns.a }} {{ ns.b }}",
    "{% set ns = namespace() %}{% set ns.x = 1 %}{{ ns.x }} {{ ns.y }}|",
    "{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}|{{ a }}",
    "{% with x = n %}{% set y = x * 2 %}{{ y }}{% endwith %}{{ y }}",
    "{% set x = 1 %}{% with %}{% set x = 2 %}{{ x }}{% endwith %}{{ x }}",
    "{% set x = 'outer' %}{% macro m() %}{% set x = 'inner' %}{{ x }}{% endmacro %}{{ m() }}{{ x }}",
    "{% set x = [] %}{% set y = x %}{% do y.append(1) %}{{ x }}",
    "{% set name = 'shadow' %}{{ name }}",
    "{% set x = none %}{{ x is none }}",
    "{% set x = undefined_x %}{{ x is defined }}",
    "{% set x %}{% for i in items %}{{ i }}{% endfor %}{% endset %}{{ x|length }}",
    "{% set ns = namespace(items=[]) %}{% for i in range(3) %}{% set ns.items = ns.items + [i] %}{% endfor %}{{ ns.items }}",
    "{% set a = 1 %}{% set b = a + 1 %}{% set a = b * 10 %}{{ a }}",
    "{% set x = 'q' if true %}{{ x }}",
    "{{ namespace(a=1) }}",
    "{% do items.append(9) %}{% set total = items|sum %}{{ total }}",
)
for t in ["{% set a, b = 1 %}", "{% set none = 1 %}", "{% set x.y = 1 %}", "{% set 1 = 2 %}"]:
    case("set_err", t)

# ---------------------------------------------------------------- macros / call
cases(
    "macro",
    "{% macro m(a, b=2) %}{{ a }}-{{ b }}{% endmacro %}{{ m(1) }} {{ m(1, 3) }} {{ m(b=5, a=4) }}",
    "{% macro m(a, b=a * 2, c=b + 1) %}{{ a }},{{ b }},{{ c }}{% endmacro %}{{ m(1) }} {{ m(1, 5) }}",
    "{% macro m(a) %}[{{ a }}]{% endmacro %}{{ m() }}",
    "{% macro m(a, b=none) %}{{ b is none }}{% endmacro %}{{ m(1) }}",
    "{% macro m() %}{{ varargs }}{% endmacro %}{{ m(1, 2, 3) }}",
    "{% macro m(a) %}{{ a }}{{ varargs }}{% endmacro %}{{ m(1) }} {{ m(1, 2) }}",
    "{% macro m() %}{{ kwargs }}{% endmacro %}{{ m(x=1, y='z') }}",
    "{% macro m(a) %}{{ a }} {{ kwargs|dictsort }} {{ varargs }}{% endmacro %}{{ m(1, 2, k=3) }}",
    "{% macro m() %}{% for k, v in kwargs.items() %}{{ k }}={{ v }};{% endfor %}{% endmacro %}{{ m(b=1, a=2) }}",
    "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(*[7]) }} {{ m(**{'a': 8}) }}",
    "{% macro m(a, b, c) %}{{ a }}{{ b }}{{ c }}{% endmacro %}{{ m(1, *[2, 3]) }} {{ m(1, **{'b': 2, 'c': 3}) }}",
    "{% macro m() %}{{ caller() }}{% endmacro %}{% call m() %}inside{% endcall %}",
    "{% macro m(x) %}<{{ caller(x * 2) }}>{% endmacro %}{% call(v) m(21) %}v={{ v }}{% endcall %}",
    "{% macro m() %}{{ caller('a', 'b') }}{% endmacro %}{% call(x, y='z') m() %}{{ x }}{{ y }}{% endcall %}",
    "{% macro m(items) %}{% for i in items %}{{ caller(i) }}{% endfor %}{% endmacro %}{% call(i) m([1, 2]) %}({{ i }}){% endcall %}",
    "{% macro outer() %}{% call inner() %}nested {{ caller() }}{% endcall %}{% endmacro %}{% macro inner() %}[{{ caller() }}]{% endmacro %}{% call outer() %}deep{% endcall %}",
    "{% macro m() %}{% if caller is defined %}{{ caller() }}{% else %}no caller{% endif %}{% endmacro %}{{ m() }}|{% call m() %}has{% endcall %}",
    "{% macro m() %}{{ return(42) }}{% endmacro %}{{ m() + 1 }}",
    "{% macro m() %}before{{ return([1, 2]) }}after{% endmacro %}{% set r = m() %}{{ r }} {{ r is sequence }}",
    "{% macro m(x) %}{% if x > 0 %}{{ return('pos') }}{% endif %}{{ return('nonpos') }}{% endmacro %}{{ m(1) }} {{ m(-1) }}",
    "{% macro m() %}{% for i in range(10) %}{% if i == 3 %}{{ return(i) }}{% endif %}{% endfor %}{% endmacro %}{{ m() }}",
    "{% macro m() %}{{ return({'a': 1}) }}{% endmacro %}{{ m().a }}",
    "{% macro m() %}{{ return(none) }}{% endmacro %}{{ m() is none }}",
    "{% macro inner() %}{{ return('x') }}{% endmacro %}{% macro outer() %}{{ return(inner() ~ 'y') }}{% endmacro %}{{ outer() }}",
    "{% macro fact(n) %}{% if n <= 1 %}{{ return(1) }}{% endif %}{{ return(n * fact(n - 1)) }}{% endmacro %}{{ fact(10) }} {{ fact(25) }}",
    "{% macro fib(n) %}{% if n < 2 %}{{ n }}{% else %}{{ fib(n - 1)|int + fib(n - 2)|int }}{% endif %}{% endmacro %}{{ fib(10) }}",
    "{% macro m() %}{{ name }}{% endmacro %}{{ m() }}",
    "{% macro m() %}{{ x }}{% endmacro %}{% set x = 'late' %}{{ m() }}",
    "{% set x = 1 %}{% macro m() %}{{ x }}{% endmacro %}{% set x = 2 %}{{ m() }}",
    "{% macro m() %}body{% endmacro %}{{ m }}|{{ m.name }}|{{ m.arguments }}",
    "{% macro m(a, b) %}{% endmacro %}{{ m.arguments }} {{ m.catch_kwargs }} {{ m.catch_varargs }} {{ m.caller }}",
    "{% macro m() %}  spaced  {% endmacro %}[{{ m() }}]",
    "{% macro m() -%}\n  trimmed\n{%- endmacro %}[{{ m() }}]",
    "{% macro m(x) %}{{ x|upper }}{% endmacro %}{{ items|map('string')|map('upper')|join }} {{ m('a') ~ m('b') }}",
    "{% macro m() %}{{ caller() }}{% endmacro %}{% call m() %}{% set inner = 1 %}{{ inner }}{% endcall %}",
    "{% macro m(a, b=2) %}{{ a }}{{ b }}{% endmacro %}{{ m(1, b=3,) }}",
    "{% macro m(a, ) %}{{ a }}{% endmacro %}{{ m(1) }}",
    "{% for i in items %}{% macro m() %}{{ i }}{% endmacro %}{{ m() }}{% endfor %}",
    "{% macro m() %}{% set l = [] %}{% for i in range(3) %}{% do l.append(i) %}{% endfor %}{{ return(l) }}{% endmacro %}{{ m()|sum }}",
    "{% macro m(kwargs) %}{{ kwargs }}{% endmacro %}{{ m(1) }}",
    "{% macro m() %}{{ return(caller()) }}{% endmacro %}{% call m() %}ret caller{% endcall %}",
)
for t in ["{% macro m() %}{% endmacro %}{{ m(1) }}", "{% macro m() %}{% endmacro %}{{ m(x=1) }}",
          "{% macro m(a) %}{% endmacro %}{{ m(1, a=2) }}", "{% macro m(a=1, b) %}{% endmacro %}",
          "{% macro m() %}{{ caller() }}{% endmacro %}{{ m() }}", "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
          "{% call undefined_macro() %}x{% endcall %}", "{% macro m() %}{% endmacro %}{% call m() %}x{% endcall %}"]:
    case("macro_err", t)

# ---------------------------------------------------------------- filter blocks, do
cases(
    "filterblock",
    "{% filter upper %}hello {{ name }}{% endfilter %}",
    "{% filter replace('a', 'b')|upper %}banana{% endfilter %}",
    "{% filter trim %}   padded   {% endfilter %}|",
    "{% filter indent(2) %}a\nb{% endfilter %}",
    "{% do items.append(4) %}{{ items }}",
    "{% do none %}ok",
    "{% do 1 + 2 %}ok",
    "{% filter upper %}{% for i in items %}{{ i }}x{% endfor %}{% endfilter %}",
)

# ---------------------------------------------------------------- filters
cases(
    "filters",
    "{{ -3|abs }} {{ neg|abs }} {{ -2.5|abs }}",
    "{{ users|map(attribute='name')|join(', ') }} {{ users|map(attribute='missing', default='?')|list }}",
    "{{ items|map('string')|join('-') }} {{ ['a', 'b']|map('upper')|list }} {{ [1.6, 2.4]|map('round')|list }}",
    "{{ items|batch(2)|list }} {{ items|batch(2, 'x')|list }}",
    "{{ 'hello world'|capitalize }} {{ 'ab'|center(6) }}|",
    "{{ items|count }} {{ 'abc'|length }} {{ d|length }} {{ undefined_x|length }}",
    "{{ undefined_x|default('dflt') }} {{ none|default('dflt') }} {{ ''|default('dflt', true) }} {{ 0|d('z', boolean=true) }} {{ name|default('x') }}",
    "{{ {'b': 1, 'a': 2, 'C': 0}|dictsort }} {{ {'b': 1, 'a': 2}|dictsort(by='value') }} {{ {'b': 1, 'a': 2, 'C': 0}|dictsort(true) }} {{ {'b': 1, 'a': 2}|dictsort(reverse=true) }}",
    "{{ html|e }} {{ html|escape }} {{ html|e|e }} {{ html|forceescape }}",
    "{{ 100|filesizeformat }} {{ 1000|filesizeformat }} {{ 123456789|filesizeformat }} {{ 1024|filesizeformat(true) }} {{ 1|filesizeformat }} {{ 2048000|filesizeformat(true) }}",
    "{{ items|first }} {{ items|last }} {{ 'abc'|first }} {{ empty|first }}|{{ range(5)|last }}",
    "{{ '3.5'|float }} {{ 'x'|float }} {{ 'x'|float(1.5) }} {{ 3|float }} {{ ' 2e3 '|float }}",
    "{{ '%s-%s'|format('a', 'b') }} {{ '%(x)s'|format(x=1) }}",
    "{% for g in users|groupby('city') %}{{ g.grouper }}:{{ g.list|map(attribute='name')|join('+') }} {% endfor %}",
    "{% for city, us in users|groupby('city', case_sensitive=true) %}{{ city }}={{ us|length }} {% endfor %}",
    "{{ users|groupby('age')|map(attribute='grouper')|list }}",
    "{{ 'a\\nb\\n\\nc'|indent }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(1, blank=true) }}|{{ 'x\\ny'|indent('> ') }}",
    "{{ '42'|int }} {{ '4.7'|int }} {{ 'x'|int }} {{ 'x'|int(-1) }} {{ 3.9|int }} {{ '0x1A'|int(0, 16) }} {{ '101'|int(base=2) }} {{ '1_000'|int }} {{ true|int }}",
    "{{ d|items|list }} {{ undefined_x|items|list }}",
    "{{ items|join }} {{ items|join(', ') }} {{ users|join(',', attribute='name') }}",
    "{{ items|list }} {{ 'abc'|list }} {{ d|list }} {{ range(3)|list }}",
    "{{ 'HeLLo'|lower }} {{ 'HeLLo'|upper }} {{ 'hello wORLD-foo bar'|title }}",
    "{{ items|max }} {{ items|min }} {{ words|max }} {{ words|min }} {{ words|max(case_sensitive=true) }} {{ users|max(attribute='age') }} {{ empty|max }}|",
    "{{ d|pprint }} {{ 'x'|pprint }} {{ none|pprint }}",
    "{{ [7]|random }} {{ 'z'|random }}",
    "{{ items|select('odd')|list }} {{ items|reject('odd')|list }} {{ [0, 1, '', 'a', none]|select|list }} {{ items|select('gt', 1)|list }} {{ items|select('in', [1, 3])|list }}",
    "{{ users|selectattr('age', 'gt', 26)|map(attribute='name')|list }} {{ users|rejectattr('city', 'equalto', 'Paris')|map(attribute='name')|list }} {{ [{'a': 1}, {'a': 0}, {}]|selectattr('a')|list }}",
    "{{ 'hello'|replace('l', 'L') }} {{ 'hello'|replace('l', 'L', 1) }}",
    "{{ items|reverse|list }} {{ 'abc'|reverse }}",
    "{{ 2.5|round }} {{ 3.5|round }} {{ 2.675|round(2) }} {{ 1.55|round(1) }} {{ 3.14159|round(2, 'floor') }} {{ 3.14159|round(1, 'ceil') }} {{ 42|round }} {{ 1234|round(-2) }} {{ -2.5|round }}",
    "{{ 'x'|safe }} {{ '<b>'|safe }}",
    "{{ range(10)|slice(3)|list }} {{ [1, 2, 3, 4]|slice(3, 'f')|list }}",
    "{{ [3, 1, 2]|sort }} {{ [3, 1, 2]|sort(reverse=true) }} {{ words|sort }} {{ words|sort(case_sensitive=true) }} {{ users|sort(attribute='age')|map(attribute='name')|list }}",
    "{{ users|sort(attribute='city,name')|map(attribute='name')|list if false else 'skip' }}",
    "{{ 42|string }} {{ none|string }} {{ [1]|string }} {{ (1|string) ~ 'x' }}",
    "{{ '<p>Hello <b>World</b></p>  extra   space'|striptags }}",
    "{{ items|sum }} {{ [1.5, 2]|sum }} {{ users|sum(attribute='age') }} {{ items|sum(start=10) }} {{ []|sum }}",
    "{{ d|tojson }} {{ [1, 'a', none, true, 2.5]|tojson }} {{ {'b': [1], 'a': {'c': none}}|tojson }} {{ '<&>\\''|tojson }} {{ 'é'|tojson }}",
    "{{ {'a': [1, 2], 'b': {}}|tojson(indent=2) }}",
    "{{ '  x  '|trim }}|{{ 'xxaxx'|trim('x') }}",
    "{{ 'the quick brown fox jumps over the lazy dog'|truncate(20) }}|{{ 'short'|truncate(20) }}|{{ 'abcdefghijklmnop'|truncate(10, true) }}|{{ 'a b c d e f g h'|truncate(9, false, '..', 0) }}",
    "{{ [1, 2, 1, 3, 2]|unique|list }} {{ ['a', 'A', 'b']|unique|list }} {{ ['a', 'A']|unique(case_sensitive=true)|list }} {{ users|unique(attribute='city')|map(attribute='name')|list }}",
    "{{ 'a b&c/d'|urlencode }} {{ {'q': 'x y', 'n': 1}|urlencode }}",
    "{{ 'one two, three'|wordcount }} {{ ''|wordcount }}",
    "{{ 'the quick brown fox jumps over the lazy dog'|wordwrap(10) }}",
    "{{ {'class': 'x', 'id': 5, 'skip': none}|xmlattr }}|{{ {'a': '<'}|xmlattr(false) }}",
    "{{ 'go to http://example.com now'|urlize }}",
    "{{ d|attr('a') }}|{{ 'x'|attr('upper') is defined }}",
    "{{ items|map('int')|sum }}",
    "{{ cols|reject('in', ['id'])|list }}",
    "{{ users|map(attribute='age')|select('ge', 30)|list }}",
    "{{ [[1, 2], [3]]|map('length')|list }} {{ [[1], [2, 3]]|sum(start=[]) }}",
    "{{ users|selectattr('name', 'in', ['bob', 'carol'])|list|length }}",
    "{{ name|length > 3 }} {{ items|length in [3] }}",
    "{{ 1 + items|length }} {{ -items|length }}",
    "{{ 'a,b'|replace(',', '|')|upper }}",
    "{{ none|string|upper }} {{ undefined_x|upper }}|{{ undefined_x|string }}|",
    "{{ 'abc'|center }}|",
    "{{ ['b', 'a']|sort|first }} {{ d.values()|list|max }}",
    "{{ (1, 2)|list }} {{ {'a': 1}.items()|list }} {{ d.keys()|join(',') }}",
    "{{ 3|float|string }} {{ 7|int * 2.0 }}",
    "{{ 12345.6789|round(2) }} {{ 0.5|round }} {{ 1.5|round }} {{ -0.5|round }}",
    "{{ '%.1f%%'|format(12.345) }}",
    "{{ users|map(attribute='name')|map('title')|join(' & ') }}",
    "{{ 'a-b_c d'|title }} {{ \"it's\"|title }}",
    "{{ [none, 1]|map('default', 0)|list }}",
    "{{ ['a', 'b']|join(1) }}",
    "{{ [1, [2, 3]]|tojson }} {{ 1.0|tojson }} {{ 10000000000000000.0|tojson }}",
    "{{ d|dictsort|first }}",
    "{{ items|slice(2)|list }} {{ []|batch(2)|list }}",
    "{{ 'Hello World'|wordcount }} {{ 'snake_case word'|wordcount }}",
    "{{ [3, 2, 1]|sort|join }} {{ [0.5, 2, 1]|sort }}",
    "{{ {'a': 1, 'b': 2}|dictsort|map('last')|list }}",
    "{{ '  lots   of   space  '|striptags }}|",
    "{{ 65|filesizeformat }} {{ 1500000|filesizeformat }} {{ 10**15|filesizeformat }}",
    "{{ 'x'|indent(4, true) }}|{{ ''|indent(2, true) }}|",
)
for t in ["{{ 'x'|nosuchfilter }}", "{{ 'x'|abs }}", "{{ 1|join }}", "{{ items|batch(0)|list }}", "{{ d|dictsort(by='x') }}",
          "{{ 'x'|truncate(1) }}", "{{ items|map|list }}", "{{ items|select('nosuchtest')|list }}", "{{ [1, 'a']|sort }}",
          "{{ {'a': 1}|tojson(indent='x') }}", "{{ 1|items|list }}", "{{ [1, 'a']|max }}", "{{ 1|round('x') }}", "{{ 'x'|round }}",
          "{{ undefined_x|tojson }}", "{{ items|sum(attribute='x') }}"]:
    case("filter_err", t)

# ---------------------------------------------------------------- globals
cases(
    "globals",
    "{{ range(5)|list }} {{ range(2, 5)|list }} {{ range(10, 0, -3)|list }} {{ range(0)|list }} {{ range(3)|length }}",
    "{% for i in range(3) %}{{ i }}{% endfor %} {{ 2 in range(3) }} {{ range(3)[1] }}",
    "{{ dict(a=1, b=2) }} {{ dict({'x': 1}, y=2) }} {{ dict([('k', 'v')]) }} {{ dict() }}",
    "{% set c = cycler('a', 'b', 'c') %}{{ c.next() }}{{ c.next() }}{{ c.current }}{{ c.next() }}{{ c.next() }}{% do c.reset() %}{{ c.next() }}",
    "{% set j = joiner(' | ') %}{% for i in items %}{{ j() }}{{ i }}{% endfor %}",
    "{% set j = joiner() %}{{ j() }}{{ j() }}{{ j() }}",
    "{{ lipsum(1, false, 5, 6)|wordcount }} {{ lipsum(2, false)|length > 10 }} {{ lipsum(1)[:3] }}",
    "{% set ns = namespace(a=1, b='x') %}{{ ns.a }}{{ ns.b }}",
    "{{ range(3) == range(3) }} {{ range(1, 4)|sum }} {{ range(100)|last }}",
    "{{ dict is callable }} {{ namespace is defined }} {{ cycler is defined }}",
)
for t in ["{{ range(100001)|length }}", "{{ range(1.5) }}", "{{ range(0, 10, 0) }}", "{{ cycler() }}", "{{ range('a') }}",
          "{{ dict(1, 2) }}"]:
    case("globals_err", t)

# ---------------------------------------------------------------- include / import
cases(
    "loader",
    "{% include 'header.sql' %}",
    "{% for i in range(2) %}{% include 'header.sql' %};{% endfor %}",
    "{% set items = [9] %}{% include 'loop.sql' %}",
    "{% for items in [[5, 6]] %}{% include 'loop.sql' %}{% endfor %}",
    "{% include 'nested.sql' %}",
    "{% include 'missing.sql' ignore missing %}ok",
    "{% include ['missing.sql', 'header.sql'] %}",
    "{% include 'header.sql' without context %}",
    "{% import 'macros.sql' as m %}{{ m.hello() }} {{ m.hello('you') }} {{ m.shout('hi') }} {{ m.version }}",
    "{% from 'macros.sql' import hello, shout as s %}{{ hello('a') }} {{ s('b') }}",
    "{% from 'macros.sql' import version %}{{ version }}",
    "{% import 'macros.sql' as m %}{{ m._private }}|{{ m.nothere }}|",
    "{% from 'caller.sql' import wrap, each %}{% call wrap('b') %}bold{% endcall %} {% call(x) each([1, 2]) %}<{{ x }}>{% endcall %}",
    "{% import 'uses_ctx.sql' as u %}[{{ u.who() }}]",
    "{% import 'uses_ctx.sql' as u with context %}[{{ u.who() }}]",
    "{% from 'ret.sql' import cols %}{{ cols()|join(',') }} {{ cols()|length }}",
    "{% include 'setter.sql' %}|{{ inner }}|",
    "{% set tpl = 'header.sql' %}{% include tpl %}",
    "{% import 'macros.sql' as m %}{{ m.hello(who=name) }}",
)
for t in ["{% include 'missing.sql' %}", "{% import 'missing.sql' as m %}", "{% from 'macros.sql' import _private %}",
          "{% from 'macros.sql' import nothere %}{{ nothere() }}"]:
    case("loader_err", t)

# ---------------------------------------------------------------- host block tags (dbt)
cases(
    "tags",
    "{% docs orders %}The orders table.{% enddocs %}[{{ doc_orders() }}]",
    "{% test not_null(model, column_name) %}select * from {{ model }} where {{ column_name }} is null{% endtest %}{{ test_not_null('orders', 'id') }}",
    "{% test accepted(model, column_name, values=['a']) %}{{ values|join(',') }}{% endtest %}{{ test_accepted('m', 'c') }}",
    "{% materialization table, adapter='duckdb' %}mat {{ name }}{% endmaterialization %}{{ materialization_table_duckdb() }}",
    "{% materialization view %}view mat{% endmaterialization %}{{ materialization_view_default() }}",
    "{% materialization incr, adapter='postgres', supported_languages=['sql'] %}ok{% endmaterialization %}{{ materialization_incr_postgres() }}",
    "before {% docs x %}doc body{% enddocs %} after",
    "{% test t(model) %}{{ return('ret ' ~ model) }}{% endtest %}{{ test_t('m') }}",
)
for t in ["{% docs x %}unterminated", "{% test t(model) %}{% endtest %}{{ test_t() }}|"]:
    case("tags_err", t)

# ---------------------------------------------------------------- syntax errors
for t in ["{{ }}", "{{ 1 + }}", "{% if %}{% endif %}", "{% if true %}", "{% for %}", "{% for x in %}{% endfor %}",
          "{% endif %}", "{% nosuchtag %}", "{{ (1, 2 }}", "{{ [1, 2 }}", "{{ {'a' 1} }}", "{{ 1 1 }}", "{% set %}",
          "{% macro %}{% endmacro %}", "{{ 'unterminated }}", "{% raw %}no end", "{{ a.1b }}", "{{ 007 }}", "{# open comment",
          "{% if true %}{% else %}{% else %}{% endif %}", "{% for x in y %}{% endif %}", "{{ x | }}", "{{ f(a=1, 2) }}",
          "{{ 1 is }}", "{% break %}", "{% block %}", "{{ x is not }}", "{{ ) }}", "{% call %}{% endcall %}",
          "{% with a %}{% endwith %}", "{% filter %}x{% endfilter %}", "{{ 1 if }}", "{{ @ }}", "{% include %}",
          "{% from 'x' import %}", "{{ a.b.c( }}", "{% endfor %}", "{{ x is is }}", "{{ f(**a, *b) }}"]:
    case("syntax_err", t)

# ---------------------------------------------------------------- dbt-style macros (written for this corpus)
DBT = {}
DBT["return_list"] = (
    "{% macro get_columns(rel) %}{{ return(['id', 'name', 'created_at']) }}{% endmacro %}"
    "{% set cols = get_columns(rel) %}select {{ cols|join(', ') }} from {{ rel.schema }}.{{ rel.identifier }}"
)
DBT["dispatch"] = (
    "{% macro default__concat(fields) %}concat({{ fields|join(', ') }}){% endmacro %}\n"
    "{% macro duckdb__concat(fields) %}{{ fields|join(' || ') }}{% endmacro %}\n"
    "{% macro dispatch(name, namespace) %}"
    "{% set impl = namespace.get(target_type ~ '__' ~ name) or namespace.get('default__' ~ name) %}"
    "{{ return(impl) }}{% endmacro %}\n"
    "{% macro concat(fields) %}"
    "{{ return(dispatch('concat', {'default__concat': default__concat, 'duckdb__concat': duckdb__concat})(fields)) }}"
    "{% endmacro %}\n"
    "select {{ concat(['first_name', \"' '\", 'last_name']) }} as full_name"
)
DBT["dispatch_default"] = DBT["dispatch"].replace("duckdb__concat(fields) %}", "snowflake__concat(fields) %}").replace(
    "'duckdb__concat': duckdb__concat", "'snowflake__concat': snowflake__concat")
DBT["statement"] = (
    "{% set results = {} %}"
    "{% macro statement(name=None, fetch_result=False, auto_begin=True) -%}\n"
    "  {%- set sql = caller() -%}\n"
    "  {%- if name == 'main' -%}{%- set sql = '/* main */ ' ~ sql -%}{%- endif -%}\n"
    "  {%- do results.update({name: {'sql': sql|trim, 'fetch': fetch_result}}) -%}\n"
    "{%- endmacro %}\n"
    "{% call statement('main', fetch_result=True) %}\n  select count(*) from {{ rel.identifier }}\n{% endcall %}\n"
    "{% call statement('other') -%} delete from x {%- endcall %}\n"
    "{{ results['main']['sql'] }}|{{ results.main.fetch }}|{{ results.other.sql }}|{{ results|length }}"
)
DBT["surrogate_key"] = (
    "{%- macro surrogate_key(field_list) -%}\n"
    "{%- set fields = [] -%}\n"
    "{%- for field in field_list -%}\n"
    "    {%- do fields.append(\"coalesce(cast(\" ~ field ~ \" as TEXT), '_null_')\") -%}\n"
    "    {%- if not loop.last %}{% do fields.append(\"'-'\") %}{% endif -%}\n"
    "{%- endfor -%}\n"
    "md5({{ fields|join(' || ') }})\n"
    "{%- endmacro -%}\n"
    "select {{ surrogate_key(['order_id', 'customer_id']) }} as sk"
)
DBT["star"] = (
    "{%- macro star(columns, except=[], prefix='', suffix='', relation_alias=none) -%}\n"
    "{%- set ex = except|map('lower')|list -%}\n"
    "{%- for col in columns if col|lower not in ex -%}\n"
    "  {%- if relation_alias %}{{ relation_alias }}.{% endif %}\"{{ col }}\""
    "{%- if prefix or suffix %} as \"{{ prefix ~ col ~ suffix }}\"{% endif -%}\n"
    "  {%- if not loop.last %},\n  {% endif -%}\n"
    "{%- endfor -%}\n"
    "{%- endmacro -%}\n"
    "select\n  {{ star(cols, except=['_LOADED_AT'], relation_alias='o') }}\nfrom orders o\n"
    "-- {{ star(cols, prefix='p_', suffix='_s') }}"
)
DBT["date_spine"] = (
    "{% macro generate_series(upper_bound) %}\n"
    "{%- set n = (upper_bound|log2 if false else 0) -%}\n"
    "with p as (select 0 as generated_number union all select 1),\n"
    "unioned as (\nselect\n"
    "{%- for i in range(upper_bound) %}\n    {{ i }} as generated_number{{ ' union all select' if not loop.last }}\n{%- endfor %}\n)"
    "{% endmacro %}\n"
    "{% macro date_spine(datepart, start_date, end_date, days) %}\n"
    "{{ generate_series(days) }}\n"
    "select dateadd({{ datepart }}, generated_number, {{ start_date }}) as date_{{ datepart }}\n"
    "from unioned where date_{{ datepart }} < {{ end_date }}\n"
    "{% endmacro %}\n"
    "{{ date_spine('day', \"cast('2024-01-01' as date)\", \"cast('2024-01-04' as date)\", 3) }}"
).replace("{%- set n = (upper_bound|log2 if false else 0) -%}\n", "")
DBT["pivot"] = (
    "{% macro pivot(column, values, alias=True, agg='sum', cmp='=', prefix='', suffix='', then_value=1, else_value=0, quote_identifiers=True) %}\n"
    "  {%- for value in values %}\n"
    "  {{ agg }}(\n    case when {{ column }} {{ cmp }} '{{ value|replace(\"'\", \"''\") }}'\n      then {{ then_value }}\n      else {{ else_value }}\n    end\n  )\n"
    "  {%- if alias -%}\n    {%- if quote_identifiers %} as \"{{ prefix ~ value ~ suffix }}\"\n    {%- else %} as {{ prefix ~ value ~ suffix }}{% endif -%}\n  {%- endif -%}\n"
    "  {%- if not loop.last %},{% endif -%}\n  {%- endfor %}\n{% endmacro %}\n"
    "select city,\n{{ pivot('status', ['open', \"it's\", 'closed'], prefix='n_', agg='count', then_value='id', else_value='null') }}\nfrom t group by 1"
)
DBT["union_relations"] = (
    "{%- macro union_relations(relations, source_column_name='_dbt_source_relation') -%}\n"
    "{%- set column_superset = {} -%}\n"
    "{%- set ordered = [] -%}\n"
    "{%- for relation in relations -%}\n"
    "  {%- for col in relation.columns -%}\n"
    "    {%- if col.name not in column_superset -%}\n"
    "      {%- do column_superset.update({col.name: col.type}) -%}\n"
    "      {%- do ordered.append(col.name) -%}\n"
    "    {%- endif -%}\n"
    "  {%- endfor -%}\n"
    "{%- endfor -%}\n"
    "{%- for relation in relations %}\n"
    "(\n  select\n    cast('{{ relation.name }}' as text) as {{ source_column_name }},\n"
    "  {%- for name in ordered %}\n"
    "    {%- set present = relation.columns|selectattr('name', 'equalto', name)|list %}\n"
    "    {% if present %}{{ name }}{% else %}cast(null as {{ column_superset[name] }}) as {{ name }}{% endif %}{{ ',' if not loop.last }}\n"
    "  {%- endfor %}\n  from {{ relation.name }}\n)\n"
    "{% if not loop.last %}union all{% endif -%}\n"
    "{%- endfor -%}\n"
    "{%- endmacro -%}\n"
    "{{ union_relations(relations) }}"
)
DBT["model"] = (
    "{{ config_dict.update({'materialized': 'incremental', 'unique_key': 'id'}) or '' }}\n"
    "{%- set payment_methods = ['credit_card', 'coupon', 'bank_transfer', 'gift_card'] -%}\n"
    "with payments as (\n    select * from {{ rel.database }}.{{ rel.schema }}.stg_payments\n),\n"
    "final as (\n    select\n        order_id,\n"
    "        {% for payment_method in payment_methods -%}\n"
    "        sum(case when payment_method = '{{ payment_method }}' then amount else 0 end) as {{ payment_method }}_amount,\n"
    "        {% endfor -%}\n"
    "        sum(amount) as total_amount\n    from payments\n"
    "    {% if config_dict.materialized == 'incremental' %}where updated_at > (select max(updated_at) from {{ rel.identifier }}){% endif %}\n"
    "    group by 1\n)\nselect * from final\n{{ config_dict|dictsort }}"
)
DBT["get_where_subquery"] = (
    "{% macro get_where_subquery(relation, where=none) -%}\n"
    "  {%- if where -%}\n    {%- if 'dbt_internal' in where -%}{{ return(relation) }}{%- endif -%}\n"
    "    {%- set filtered -%}\n        (select * from {{ relation }} where {{ where }}) dbt_subquery\n    {%- endset -%}\n"
    "    {{ return(filtered) }}\n  {%- else -%}\n    {{ return(relation) }}\n  {%- endif -%}\n{%- endmacro %}"
    "[{{ get_where_subquery('orders') }}] [{{ get_where_subquery('orders', 'id > 5') }}]"
)
DBT["is_incremental"] = (
    "{% macro is_incremental() %}{{ return(flags.full_refresh is false and model_exists) }}{% endmacro %}"
    "{% set flags = {'full_refresh': false} %}{% set model_exists = true %}"
    "{% if is_incremental() %}incremental{% else %}full{% endif %}"
)
DBT["generate_schema_name"] = (
    "{% macro generate_schema_name(custom_schema_name, node) -%}\n"
    "    {%- set default_schema = rel.schema -%}\n"
    "    {%- if custom_schema_name is none -%}\n        {{ default_schema }}\n"
    "    {%- else -%}\n        {{ default_schema }}_{{ custom_schema_name | trim }}\n    {%- endif -%}\n"
    "{%- endmacro %}[{{ generate_schema_name(none, {}) }}] [{{ generate_schema_name(' marts ', {}) }}]"
)
DBT["accepted_values"] = (
    "{% test accepted_values(model, column_name, values, quote=True) %}\n"
    "with all_values as (\n    select {{ column_name }} as value_field, count(*) as n_records\n    from {{ model }}\n    group by {{ column_name }}\n)\n"
    "select * from all_values\nwhere value_field not in (\n"
    "    {% for value in values -%}\n        {% if quote -%}'{{ value }}'{%- else -%}{{ value }}{%- endif -%}\n        {%- if not loop.last -%},{%- endif %}\n    {%- endfor %}\n)\n"
    "{% endtest %}{{ test_accepted_values('orders', 'status', ['placed', 'shipped']) }}\n{{ test_accepted_values('orders', 'n', [1, 2], quote=false) }}"
)
DBT["safe_cast_kwargs"] = (
    "{% macro safe_cast(field, type) %}{{ return(adapter_macro('safe_cast', field, type, **kwargs)) }}{% endmacro %}"
    "{% macro adapter_macro(name) %}{{ return(name ~ '(' ~ varargs|join(', ') ~ ')' ~ (kwargs|dictsort|string if kwargs else '')) }}{% endmacro %}"
    "{{ safe_cast('x', 'int') }} {{ safe_cast('y', 'text', strict=true) }}"
)
DBT["log_and_exceptions"] = (
    "{% set exceptions = namespace(raised=[]) %}"
    "{% macro raise_compiler_error(msg) %}{% do exceptions.raised.append(msg) %}{% endmacro %}"
    "{% for c in ['id', 'bad col', 'name'] %}{% if ' ' in c %}{{ raise_compiler_error('invalid column: ' ~ c) }}{% endif %}{% endfor %}"
    "{{ exceptions.raised }}"
)
DBT["source_ref_like"] = (
    "{% set sources = {'raw': {'orders': 'raw_db.public.orders'}} %}"
    "{% macro source(s, t) %}{{ return(sources[s][t]) }}{% endmacro %}"
    "{% macro ref(name, v=none) %}{{ return('analytics.' ~ name ~ ('_v' ~ v if v else '')) }}{% endmacro %}"
    "select * from {{ source('raw', 'orders') }} join {{ ref('customers') }} using (id) join {{ ref('x', v=2) }} using (id)"
)
DBT["loop_sql_lists"] = (
    "{% set columns = [{'name': 'id', 'type': 'int'}, {'name': 'email', 'type': 'text'}, {'name': 'ts', 'type': 'timestamp'}] %}"
    "create table t (\n{%- for c in columns %}\n  {{ c.name }} {{ c.type|upper }}{{ ',' if not loop.last }}\n{%- endfor %}\n);\n"
    "insert into t ({{ columns|map(attribute='name')|join(', ') }}) values ({{ columns|map(attribute='name')|map('replace', 'id', '1')|join(', ') }});"
)
DBT["nested_caller_file_macro"] = (
    "{% from 'caller.sql' import wrap %}{% macro cte(name) %}{{ name }} as ({{ caller() }}){% endmacro %}"
    "with {% call cte('a') %}select 1{% endcall %}, {% call wrap('x') %}{% call cte('b') %}select 2{% endcall %}{% endcall %}"
)
DBT["generate_alias"] = (
    "{% macro generate_alias_name(custom_alias_name=none, node=none) -%}\n"
    "    {%- if custom_alias_name -%}{{ custom_alias_name | trim }}\n"
    "    {%- elif node.version -%}{{ return(node.name ~ '_v' ~ (node.version | replace('.', '_'))) }}\n"
    "    {%- else -%}{{ node.name }}{%- endif -%}\n{%- endmacro %}"
    "{{ generate_alias_name(' x ') }}|{{ generate_alias_name(none, {'name': 'm', 'version': '1.2'}) }}|{{ generate_alias_name(node={'name': 'plain'}) }}"
)
DBT["get_columns_in_query"] = (
    "{% macro get_columns_in_query(select_sql) %}{% set cols = [] %}"
    "{% for part in select_sql.split('select')[1].split('from')[0].split(',') %}{% do cols.append(part.strip().split(' as ')[-1]) %}{% endfor %}"
    "{{ return(cols) }}{% endmacro %}{{ get_columns_in_query('select a, b as bee, c from t') }}"
)
DBT["deduplicate"] = (
    "{%- macro deduplicate(relation, partition_by, order_by) -%}\n"
    "with numbered as (\n  select *, row_number() over (partition by {{ partition_by }} order by {{ order_by }}) as rn\n  from {{ relation }}\n)\n"
    "select * {{ 'exclude (rn)' if target_type == 'duckdb' else '' }} from numbered where rn = 1\n{%- endmacro -%}\n"
    "{{ deduplicate('events', 'user_id', 'ts desc') }}"
)
DBT["safe_divide_and_math"] = (
    "{% macro safe_divide(n, d) %}( {{ n }} ) / nullif( ( {{ d }} ), 0){% endmacro %}"
    "{% set pct = (3 / 8 * 100)|round(1) %}{{ safe_divide('a', 'b') }} -- {{ pct }}% {{ '%.2f'|format(pct) }} {{ (1234567.891)|round(2) }} {{ 10 // 3 }}"
)
DBT["width_bucket_loop"] = (
    "{% set buckets = [] %}{% for lo in range(0, 100, 25) %}{% do buckets.append({'lo': lo, 'hi': lo + 25}) %}{% endfor %}"
    "case\n{% for b in buckets %}  when x >= {{ b.lo }} and x < {{ b.hi }} then '{{ b.lo }}-{{ b.hi }}'\n{% endfor %}end"
)
DBT["config_kwargs"] = (
    "{% set cfg = {} %}{% macro config() %}{% do cfg.update(kwargs) %}{% endmacro %}"
    "{{ config(materialized='table', tags=['a', 'b'], post_hook=none) }}{{ cfg|dictsort }}"
)
for k, v in DBT.items():
    if k == "model":
        case("dbt_" + k, v, config_dict={})
    else:
        case("dbt_" + k, v)

# ---------------------------------------------------------------- misc
cases(
    "misc",
    "{% block content %}block body {{ name }}{% endblock %}",
    "{% autoescape false %}{{ html }}{% endautoescape %}",
    "{{ 'a' if t }}{{ 'b' if fl }}",
    "{{ t and 'yes' or 'no' }} {{ fl and 'yes' or 'no' }}",
    "{{ [1, 2, 3][1:]|sum }}",
    "{{ items|length * 2 }} {{ (items|length) ** 2 }}",
    "{{ -items|length }}",
    "{{ 'x' ~ items|length }}",
    "{{ not items|length }}",
    "{{ items|join(',')|upper ~ '!' }}",
    "{{ {'k': items|length}['k'] }}",
    "{{ (1, 2)|join(',') }}",
    "{{ 1 if items|length > 2 else 0 }}",
    "{{ name ~ ' ' ~ n ~ ' ' ~ f }}",
    "{{ d['a'] + d.b }}",
    "{{ users[0]['name']|title ~ ' (' ~ users[0].age ~ ')' }}",
    "{% set x = 10 %}{{ x > 5 and x < 20 }}",
    "{{ [users|length, items|length]|max }}",
    "{{ 1 if none is none else 2 }}",
    "{{ 'abc' if 'b' in 'abc' }}",
    "{{ ((1)) }} {{ (((1, 2))) }}",
    "{{ [x for x in items] if false else 'no comprehensions' }}",
)
case("misc_err", "{{ [x for x in items] }}")
case("misc_err", "{% extends 'header.sql' %}")


# ---------------------------------------------------------------- edge cases (second batch)
cases(
    "edge_ws",
    "a  {%- if true -%}  b  {%- endif -%}  c",
    "{%- if true -%}\n\n  x\n\n{%- endif -%}",
    "  {{- 1 -}}  {{- 2 -}}  ",
    "a\n{#- c -#}\nb",
    "{% for i in items -%}\n{{ i }}\n{% endfor %}",
    "{% for i in items %}{{ i }}{%- if not loop.last %}, {% endif -%}{% endfor %}",
    "<ul>\n{% for u in users %}  <li>{{ u.name }}</li>\n{% endfor %}</ul>",
    "{% macro m() -%}\n    x\n{%- endmacro -%}\n\n{{ m() }}",
    "x\n\n{%- set a = 1 %}\n\ny",
    "{% raw %}\n  raw\n{% endraw %}\n",
    "a {%- raw -%} b {%- endraw -%} c",
    "{{ 'x' }}\n",
    "\n\n{{ 'x' }}\n\n",
    "{%- for i in range(2) -%}\n  {{- i -}}\n{%- endfor -%}",
    "text {{- '' -}} text",
    "{% if false %}\nno\n{% else -%}\n  yes\n{%- endif %}",
    "a\r\nb {{ 1 }}\r\n",
    "{{ 'a\\r\\nb' }}",
    "x{{ '\\n' }}",
)
cases(
    "edge_expr",
    "{{ 1 if true else 2 if false else 3 }} {{ (1 if false else 2) if true else 3 }}",
    "{{ [1, 2, 3][-1:] }} {{ 'abc'[-10:10] }} {{ items[-100] }}|",
    "{{ 'abc' ~ 1 + 2 }}",
    "{{ 2 * 3 ~ 4 }}",
    "{{ 1 ~ 2 * 3 }}",
    "{{ 'a' ~ 'b' == 'ab' }}",
    "{{ not 1 == 2 }} {{ not 1 in [1] }} {{ (not 1) in [false] }}",
    "{{ 1 - 2 - 3 }} {{ 2 ** 2 ** 3 }} {{ 100 // 7 // 2 }} {{ 100 % 7 % 3 }}",
    "{{ - 2 ** 2 }} {{ (- 2) ** 2 }} {{ -(2 ** 2) }}",
    "{{ 10 / 4 * 2 }} {{ 10 // 4 * 2.0 }}",
    "{{ 'x' if '' else 'y' }} {{ 'x' if [0] else 'y' }} {{ 'x' if {} else 'y' }} {{ 'x' if 0.0 else 'y' }}",
    "{{ none or none }} {{ 0 and none }} {{ 1 and [] }}",
    "{{ 1 == 1.0 == true }} {{ 'a' != 'a' }} {{ 1 != none }}",
    "{{ [1, 2] == [1, 2] }} {{ [1, 2] == (1, 2) }} {{ {'a': 1} == {'a': 1.0} }} {{ {'a': 1, 'b': 2} == {'b': 2, 'a': 1} }}",
    "{{ (1, 2) < (1, 2, 0) }} {{ [2] > [1, 9] }} {{ 'Z' < 'a' }} {{ '10' < '9' }}",
    "{{ 3 in range(5) }} {{ (1, 2) in [(1, 2)] }} {{ [1] in [[1]] }} {{ 1.0 in [1] }} {{ true in [1] }}",
    "{{ 'a' in ['a'] and 'b' not in ['a'] }}",
    "{{ (1) }} {{ (1,) }} {{ ((1, 2), 3) }}",
    "{{ {'a': 1}['a'] + {'b': 2}.b }}",
    "{{ [[1, 2], [3, 4]][1][0] }} {{ ((1, 2), (3, 4))[0][-1] }}",
    "{{ 'hello world'.split()[1].upper()[:3] }}",
    "{{ users|map(attribute='name')|list|length }}",
    "{{ range(3)|map('string')|join }}",
    "{{ 5 // 2 * 2 + 5 % 2 }}",
    "{{ 0.1 + 0.7 }} {{ 1.1 * 3 }} {{ 1e100 }} {{ 1.0e-100 }} {{ 123.456e2 }}",
    "{{ 2 ** 62 * 2 }} {{ -(2 ** 63) }} {{ (2 ** 63) - 1 }} {{ 2 ** 63 // 2 ** 62 }}",
    "{{ 7 / 7 }} {{ 0 / 5 }} {{ -0.0 == 0 }}",
    "{{ 3 * 1.1 }} {{ 1 / 7 }} {{ 100 / 3 }}",
    "{{ 12345678912345678 / 1 }} {{ 1e15 + 0.3 }} {{ 5e-324 }} {{ 1.7976931348623157e308 }}",
    "{{ 'ab' < 'abc' }} {{ 'abc' > 'ab' }} {{ '' < 'a' }}",
    "{{ true and 'x' }} {{ false or 'y' }} {{ 'a' and 'b' and 'c' }} {{ '' or 0 or 'last' }}",
    "{{ d.a if d.a is defined else 'no' }} {{ d.z if d.z is defined else 'no' }}",
    "{{ {'key with space': 1}['key with space'] }}",
    "{{ [1, 2, 3]|sum / [1, 2, 3]|length }}",
    "{{ (items|length > 2) and (items|first == 1) }}",
    "{{ {'a': 1}.get('a', 0) + {'a': 1}.get('b', 10) }}",
    "{{ name[0] }}{{ name[-1] }}{{ name[1:-1] }}",
    "{{ [1, 2, 3, 4, 5][1:4:2] }} {{ [1, 2, 3][5:1:-1] }} {{ 'abc'[::-2] }}",
    "{{ 1 if 1 in [1, 2] else 0 }}{{ 'y' if 'a' not in 'bcd' }}",
)
cases(
    "edge_scope",
    "{% set x = 1 %}{% if true %}{% set x = 2 %}{% endif %}{{ x }}",
    "{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{% endfor %}{{ x }}",
    "{% for i in [1, 2] %}{% set acc = (acc or 0) + i %}{{ acc }}{% endfor %}|{{ acc }}",
    "{% set ns = namespace(acc=0) %}{% for i in [1, 2] %}{% set ns.acc = ns.acc + i %}{% endfor %}{{ ns.acc }}",
    "{% macro m(x) %}{% set y = x * 2 %}{{ y }}{% endmacro %}{{ m(2) }}{{ y }}|",
    "{% set y = 'top' %}{% macro m() %}{{ y }}{% set y = 'm' %}{{ y }}{% endmacro %}{{ m() }}{{ y }}",
    "{% with %}{% set inner = 1 %}{% endwith %}{{ inner }}|",
    "{% set x = 'a' %}{% with x = 'b' %}{{ x }}{% endwith %}{{ x }}",
    "{% with a = 1 %}{% with b = a + 1 %}{{ a }}{{ b }}{% endwith %}{% endwith %}",
    "{% for i in [1] %}{% for j in [2] %}{{ i }}{{ j }}{% endfor %}{{ j }}{% endfor %}|",
    "{% for x in [1] %}{% set ns = namespace(v=x) %}{{ ns.v }}{% endfor %}",
    "{% set l = [1, 2, 3] %}{% for x in l %}{% if x == 2 %}{% do l.append(4) %}{% endif %}{{ x }}{% endfor %}",
    "{% set d2 = {} %}{% for u in users %}{% do d2.setdefault(u.city|lower, []).append(u.name) %}{% endfor %}{{ d2 }}",
    "{% macro counter() %}{% set ns = namespace(n=0) %}{% for i in range(3) %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}{% endmacro %}{{ counter() }}{{ counter() }}",
    "{% set caller = 'x' %}{{ caller }}",
    "{% set loop = 'mine' %}{{ loop }}{% for i in [1] %}{{ loop.index }}{% endfor %}{{ loop }}",
    "{% set range = 'shadowed' %}{{ range }}",
    "{% set items = items + [4] %}{{ items }}",
    "{% for name in ['a'] %}{{ name }}{% endfor %}{{ name }}",
    "{% set x = 1 %}{% set x = x + 1 %}{% set x = x * 10 %}{{ x }}",
    "{% for i in range(2) %}{% set x = i %}{% endfor %}{{ x }}|",
    "{% if true %}{% for i in [5] %}{% set z = i %}{% endfor %}{% endif %}{{ z }}|",
)
cases(
    "edge_macro",
    "{% macro m(a, b) %}{{ a }}|{{ b }}{% endmacro %}{{ m(1) }}",
    "{% macro m(a, b) %}{{ b is defined }}{% endmacro %}{{ m(1) }}",
    "{% macro m(a=[]) %}{% do a.append(1) %}{{ a }}{% endmacro %}{{ m() }}{{ m() }}",
    "{% macro m(a={}) %}{{ a|length }}{% endmacro %}{{ m() }}",
    "{% macro m() %}{{ varargs|length }}:{{ kwargs|length }}{% endmacro %}{{ m() }} {{ m(1, 2, a=3) }}",
    "{% macro m(x) %}{{ caller(x) if caller else 'no' }}{% endmacro %}{{ m(1) }}",
    "{% macro m() %}{{ caller() ~ caller() }}{% endmacro %}{% call m() %}ab{% endcall %}",
    "{% macro list_of(n) %}{% for i in range(n) %}{{ caller(i) }}{% if not loop.last %},{% endif %}{% endfor %}{% endmacro %}{% call(i) list_of(3) %}c{{ i }}{% endcall %}",
    "{% macro m() %}{{ return(1) }}{{ return(2) }}{% endmacro %}{{ m() }}",
    "{% macro m() %}{% set x = return(5) %}{% endmacro %}{{ m() }}",
    "{% macro m() %}{% do return('via do') %}{% endmacro %}{{ m() }}",
    "{% macro m() %}{{ return(('a', 1)) }}{% endmacro %}{% set a, b = m() %}{{ a }}{{ b }}",
    "{% macro a() %}A{% endmacro %}{% macro b() %}{{ a() }}B{% endmacro %}{{ b() }}",
    "{% macro m(n) %}{% if n > 0 %}{{ n }}{{ m(n - 1) }}{% endif %}{% endmacro %}{{ m(5) }}",
    "{% set fns = [] %}{% macro f() %}F{% endmacro %}{% do fns.append(f) %}{{ fns[0]() }}",
    "{% macro m() %}{{ kwargs.get('x', 'dflt') }}{% endmacro %}{{ m() }} {{ m(x=1) }}",
    "{% macro m(a, b=1) %}{{ a + b }}{% endmacro %}{{ m(*[1], **{'b': 5}) }}",
    "{% macro m() %}{{ varargs[0] if varargs else 'none' }}{% endmacro %}{{ m() }} {{ m('v') }}",
    "{% macro outer() %}{% macro inner() %}in{% endmacro %}{{ inner() }}{% endmacro %}{{ outer() }}",
    "{% macro m() %}x{% endmacro %}{{ m() ~ m() }} {{ m()|length }} {{ m() * 2 }}",
    "{% macro m(v) %}{{ v }}{% endmacro %}{{ m(none) }} {{ m(true) }} {{ m([1]) }}",
    "{% macro m() %}{{ return(items|map('string')|list) }}{% endmacro %}{{ m()|join('+') }}",
)
cases(
    "edge_filters",
    "{{ 'abc'|batch(2)|list }} {{ range(5)|batch(2, 0)|map('sum')|list }}",
    "{{ [1, 2, 3, 4, 5, 6, 7]|slice(3)|list }}",
    "{{ 1.0|round }} {{ 0.125|round(2) }} {{ 0.375|round(2) }} {{ 2.5|round(0, 'floor') }} {{ -1.5|round(0, 'ceil') }}",
    "{{ 3.0|int }} {{ -3.7|int }} {{ '  12  '|int }} {{ '1e3'|int }} {{ '-0'|int }} {{ none|int }} {{ 'ff'|int(base=16) }}",
    "{{ '3'|float + 1 }} {{ none|float }} {{ 'nan'|float|string }} {{ 'inf'|float }}",
    "{{ [1, 2]|join(', ', attribute=none) if false else 'ok' }}",
    "{{ words|sort|join }} {{ words|sort(case_sensitive=true)|join }} {{ ['b', 'a', 'B', 'A']|sort|join }}",
    "{{ users|sort(attribute='name', reverse=true)|map(attribute='name')|join(',') }}",
    "{{ users|sort(attribute='city')|map(attribute='name')|join(',') }}",
    "{{ users|groupby('city')|map(attribute='list')|map('length')|list }}",
    "{{ [{'a': {'b': 2}}, {'a': {'b': 1}}]|sort(attribute='a.b')|map(attribute='a.b')|list }}",
    "{{ [[2, 'b'], [1, 'a']]|sort(attribute='0')|map('last')|list }}",
    "{{ ['x', 'y']|map('upper')|map('lower')|list }}",
    "{{ items|map('pow', 2)|list if false else items|map('string')|list }}",
    "{{ 'a-b'|replace('-', '_')|upper|center(7, ) }}|",
    "{{ ' x '|trim|length }} {{ 'xyx'|trim('x') }}",
    "{{ 'The Title Case'|lower|title }} {{ 'o\\'neil mcdonald-jones'|title }}",
    "{{ 'Hello'|reverse }} {{ [1, [2, 3]]|reverse|list }}",
    "{{ 'abc'|list|reverse|join }} {{ 'a'|list }}",
    "{{ items|unique|list }} {{ [1, 1.0, true]|unique|list }} {{ ['A', 'a']|unique|list }}",
    "{{ [3, 1]|min }} {{ ['B', 'a']|min }} {{ ['B', 'a']|min(case_sensitive=true) }} {{ users|min(attribute='age') }}",
    "{{ {'b': 1}|dictsort|list }} {{ {}|dictsort }}",
    "{{ 'x'|default }} {{ undefined_x|default }}|{{ undefined_x|d(none) }}",
    "{{ none|default('n', true) }} {{ false|default('f') }} {{ false|default('f', true) }}",
    "{{ [1, 2]|tojson }} {{ 'a\\nb'|tojson }} {{ {'x': 'é✓'}|tojson }} {{ ['\\u2028']|tojson }} {{ {'b': 2, 'a': 1}|tojson }}",
    "{{ none|tojson }} {{ true|tojson }} {{ 1.5|tojson }} {{ (1, 2)|tojson }} {{ 'x'|tojson }} {{ 12345678901234567890|tojson }}",
    "{{ 'a&b'|escape }} {{ '\"q\"'|e }} {{ 3|e }} {{ none|e }}",
    "{{ 'x' ~ 'y'|upper }} {{ ('x' ~ 'y')|upper }}",
    "{{ 'one two three four'|wordwrap(8) }}",
    "{{ 'a verylongwordhere b'|wordwrap(6) }}",
    "{{ 'abc def'|truncate(5) }}|{{ 'abc def ghi jkl'|truncate(9) }}|{{ 'abcdefghijklmno'|truncate(10, leeway=0) }}",
    "{{ '%s'|format(1) }} {{ '%d%%'|format(50) }} {{ '%-4s|'|format('a') }}",
    "{{ [1, 2, 3]|select('even')|first }} {{ [1, 2, 3]|reject('even')|last }}",
    "{{ users|selectattr('age', 'lt', 30)|first }}",
    "{{ users|rejectattr('age')|list }} {{ users|selectattr('missing')|list }} {{ users|selectattr('missing', 'undefined')|list|length }}",
    "{{ [none, 0, 1]|select('none')|list }} {{ ['a', 1]|select('string')|list }} {{ [1, 1.5]|select('float')|list }}",
    "{{ [1, 2, 3]|select('divisibleby', 3)|list }} {{ ['ab', 'c']|select('equalto', 'c')|list }}",
    "{{ items|select('>', 1)|list }} {{ items|reject('==', 2)|list }}",
    "{{ ['a', 'b']|map('default', 'x')|list }} {{ [1, 2]|map('abs')|sum }}",
    "{{ 'x,y'|replace(',', ', ') }} {{ 'aaa'|replace('a', 'b', 2) }}",
    "{{ 'ab'|center(5, ) }}|{{ 'ab'|center(1) }}|{{ 'abc'|center(6) }}|",
    "{{ 'AbC'|lower }} {{ 'ǆ'|upper }} {{ 'straße'|upper }}",
    "{{ range(3)|list|length }} {{ range(3)|sum }} {{ range(1, 4)|map('string')|join('-') }}",
    "{{ 12.0|string }} {{ 1e20|string }} {{ (0.1 * 3)|string }}",
    "{{ [0.5, 1.5, 2.5]|map('round')|list }} {{ [1.25, 1.35]|map('round', 1)|list }}",
    "{{ items|first is number }} {{ empty|first is defined }}",
    "{{ 1234567|filesizeformat }} {{ 999|filesizeformat }} {{ 1000000000000|filesizeformat(true) }}",
    "{{ '<b>x</b><br/>y'|striptags }} {{ 'a &amp; b'|striptags }}",
    "{{ 'a'|indent(2) }}|{{ 'a\\n'|indent(2) }}|{{ 'a\\n b'|indent(2, true, true) }}|",
    "{{ {'a b': 'c d', 'e': [1, 2]}|urlencode }} {{ 'ä/ö'|urlencode }} {{ [('a', 1)]|urlencode }}",
    "{{ 'Visit www.example.com or mail me@example.com.'|urlize }}",
    "{{ 'http://x.org/very/long/path'|urlize(10) }}",
    "{{ {'a': 1, 'b': 'x y'}|xmlattr }}",
    "{{ 'one  two\\tthree\\nfour'|wordcount }}",
    "{{ [1, 2, 3]|sum(start=0.5) }} {{ [[1], [2]]|sum(start=[]) }}",
    "{{ [3, 2, 1]|sort(reverse=true) == [3, 2, 1] }}",
    "{{ 'x'|attr('nope') }}|{{ users[0]|attr('name') }}",
    "{{ users|map(attribute='age')|max - users|map(attribute='age')|min }}",
    "{{ [1, 2, 3]|random in [1, 2, 3] }}",
    "{{ 'a b c'|split if false else 'no split filter' }}",
    "{{ ['a', 'b']|join(attribute=none) if false else 'j' }}",
    "{{ users|map(attribute='city')|map('lower')|unique|sort|join(',') }}",
    "{{ d|dictsort(false, 'value', true) }}",
    "{{ [1, 2, 3]|batch(5, 0)|list }} {{ [1, 2]|slice(4)|list }}",
)
for t in ["{{ 'x'|int(base=1) }}", "{{ items|slice(0)|list }}", "{{ 'a'|indent(none) }}", "{{ 1|first }}", "{{ 1|last }}",
          "{{ 1|list }}", "{{ 1|sort }}", "{{ 1|reverse }}", "{{ 1|sum }}", "{{ 1|unique|list }}", "{{ none|length }}",
          "{{ 'x'|center('a') }}", "{{ [1]|map('nosuch')|list }}", "{{ 1|batch(2)|list }}", "{{ 1|groupby('x') }}",
          "{{ 1|join }}", "{{ d|xmlattr(1) if false else {'a b': 1}|xmlattr }}", "{{ 'x'|wordwrap(0) }}",
          "{{ 1|replace('a', 'b') }}", "{{ 'abc'|truncate(2, end='') }}"]:
    case("edge_filter_err", t)
cases(
    "edge_format",
    "{{ '%s and %r' % ('a', 'a') }} {{ '%5.1f|%-8.3e|' % (3.14159, 1234.5) }} {{ '%03d|%+.2f' % (7, 2) }}",
    "{{ '%(a)s-%(b)05.1f' % {'a': 'x', 'b': 2.25} }} {{ '%#x %#o' % (255, 8) }} {{ '% d' % 5 }}",
    "{{ '%s' % true }} {{ '%d' % true }} {{ '%f' % 1 }} {{ '%.0f' % 2.5 }} {{ '%.0f' % 3.5 }} {{ '%g' % 1e20 }} {{ '%g' % 123456789 }}",
    "{{ '%s %s' % (none, [none]) }} {{ '%s' % {'a': 1} }} {{ '%s' % ((1, 2),) }}",
    "{{ '{:10.3f}|'.format(3.14159) }} {{ '{:<10}|'.format(5) }} {{ '{:_}'.format(1234567) }} {{ '{:,.2f}'.format(1234567.891) }}",
    "{{ '{0}{1}{0}'.format('a', 'b') }} {{ '{name}'.format(name='n') }} {{ '{0[a]}'.format({'a': 5}) }}",
    "{{ '{:.3}'.format(3.14159) }} {{ '{:.3}'.format('abcdef') }} {{ '{:g}'.format(1e-7) }} {{ '{:.1e}'.format(0.000123) }} {{ '{}'.format(1e16) }}",
    "{{ '{:>{w}}'.format('x', w=4) }}|{{ '{!s:>3}'.format(1) }}|",
    "{{ '{}'.format(none) }} {{ '{}'.format([1, 'a']) }} {{ '{}'.format(true) }} {{ '{:d}'.format(true) }}",
    "{{ '{:b}'.format(10) }} {{ '{:o}'.format(64) }} {{ '{:X}'.format(3054) }} {{ '{:#x}'.format(255) }} {{ '{:08.3f}'.format(-3.14159) }}",
    "{{ '{:.0%}'.format(0.5) }} {{ '{:.2%}'.format(1) }} {{ '{:+}'.format(3) }} {{ '{: }'.format(3) }}",
    "{{ '{:^10.2f}'.format(1.005) }}|{{ '{:.2f}'.format(2.675) }} {{ '{:.1f}'.format(0.25) }} {{ '{:.0f}'.format(0.5) }}",
    "{{ 'x'.format(1) }} {{ '{{x}}'.format() }}",
    "{{ '%.2f' % 1e10 }} {{ '%e' % 0 }} {{ '%g' % 0.0001 }} {{ '%g' % 0.00001 }} {{ '%G' % 1e-10 }}",
    "{{ '%10s|' % 'right' }} {{ '%-10s|' % 'left' }} {{ '%.2s' % 'trunc' }}",
    "{{ '%x' % 255 }} {{ '%X' % -255 }} {{ '%o' % 8 }} {{ '%5x' % 255 }} {{ '%-5d|' % 3 }}",
    "{{ '%c%c' % (72, 'i') }}",
    "{{ '%s' % '' }}|{{ '' % () }}|",
    "{{ '%(x)s %(x)s' % {'x': 1} }}",
    "{{ '%.3g' % 1234.5 }} {{ '%#.3g' % 1 }} {{ '%.10g' % 0.1 }} {{ '%g' % 100000 }} {{ '%g' % 1000000 }}",
)
for t in ["{{ '%s %s' % ('a',) }}", "{{ '%(a)s' % 1 }}", "{{ '%d' % none }}", "{{ '%x' % 1.5 }}", "{{ '{:s}'.format(1) }}",
          "{{ '{0.nope}'.format(1) }}", "{{ '{'.format() }}", "{{ '}'.format() }}", "{{ '{:q}'.format(1) }}",
          "{{ '%' % () }}", "{{ '{0[5]}'.format([1]) }}"]:
    case("edge_format_err", t)
cases(
    "edge_tests",
    "{{ 0 is even }} {{ -1 is odd }} {{ 2.0 is even }} {{ 3.0 is odd }} {{ 10 is divisibleby 2.5 if false else 'skip' }}",
    "{{ none is not defined }} {{ none is defined }} {{ d.missing is none }} {{ d.missing is undefined }}",
    "{{ 'x' is sequence }} {{ none is sequence }} {{ (1,) is sequence }} {{ range(1) is sequence }}",
    "{{ {} is mapping }} {{ namespace() is mapping }} {{ d.items() is iterable }} {{ d.items() is sequence }}",
    "{{ 1 is sameas 1 }} {{ 'a' is sameas 'a' }} {{ 1000 is sameas 1000 }} {{ 1.0 is sameas 1.0 if false else 'x' }}",
    "{{ (1, 2) is iterable }} {{ none is iterable }} {{ namespace is callable }} {{ joiner() is callable }} {{ cycler(1) is callable }}",
    "{{ 'abc' is lower }} {{ 'a1' is lower }} {{ 'A1' is upper }} {{ '' is lower }} {{ 1 is lower }}",
    "{{ 3 is ge 3 }} {{ 'b' is gt 'a' }} {{ [1] is eq [1] }} {{ none is eq none }}",
    "{{ 5 is in range(10) }} {{ 'k' is in {'k': 1} }} {{ 'x' is not in 'abc' }}",
    "{{ 1 is number is true if false else 'chain skipped' }}",
    "{{ x is defined and x > 1 }}|{{ d is defined and d.a == 1 }}",
    "{{ undefined_x is not defined }} {{ undefined_x is string }} {{ undefined_x is iterable }} {{ undefined_x is sequence }}",
    "{{ 1.5 is integer }} {{ 10000000000000000000000 is integer }} {{ 10000000000000000000000 is number }}",
    "{{ 'test' is test }} {{ 'upper' is test }} {{ 'sum' is filter }} {{ 1 is filter }}",
    "{{ [1, 2]|select('in', [2])|list }} {{ items|select('ne', 2)|list }}",
)
for t in ["{{ 1 is odd(2) }}", "{{ 1 is divisibleby }}", "{{ 1 is eq }}", "{{ 'a' is even }}", "{{ none is divisibleby 2 }}",
          "{{ undefined_x is odd }}", "{{ x is gt 1 }}"]:
    case("edge_tests_err", t)
cases(
    "edge_loader",
    "{% from 'macros.sql' import hello %}{% from 'macros.sql' import hello as h2 %}{{ hello() }}{{ h2('z') }}",
    "{% import 'macros.sql' as m %}{% import 'macros.sql' as m2 %}{{ m.version + m2.version }}",
    "{% include 'header.sql' with context %}",
    "{% for x in [1, 2] %}{% include 'setter.sql' %}{% endfor %}",
    "{% include ['nope1', 'nope2'] ignore missing %}x",
    "{% import 'macros.sql' as m %}{{ m.hello is defined }} {{ m.nope is defined }}",
    "{% from 'ret.sql' import cols %}{% set c = cols() %}{% do c.append('x') %}{{ c }} {{ cols() }}",
    "{% macro local() %}L{% endmacro %}{% from 'caller.sql' import wrap %}{% call wrap('i') %}{{ local() }}{% endcall %}",
    "{% from 'caller.sql' import each %}{% set out = [] %}{% call(x) each(items) %}{% do out.append(x * 10) %}{% endcall %}{{ out }}",
    "{% set name = 'local' %}{% include 'header.sql' %}",
    "{% include 'loop.sql' without context %}|",
)
case("edge_loader_err", "{% include ['nope1', 'nope2'] %}")
case("edge_loader_err", "{% include none %}")
cases(
    "edge_misc",
    "{% block b %}{% set x = 1 %}{{ x }}{% endblock %}",
    "{% for i in [1, 2] %}{% block inner %}[{{ i is defined }}]{% endblock %}{% endfor %}",
    "{% for i in [1, 2] %}{% block inner2 scoped %}[{{ i }}]{% endblock %}{% endfor %}",
    "{% autoescape true %}{{ '<' }}{% endautoescape %}",
    "{{ cycler('a', 'b').next() }} {% set c = cycler(1, 2) %}{{ c.current }}{{ c.next() }}{{ c.current }}",
    "{% set j = joiner('-') %}{% for x in 'abc' %}{{ j() }}{{ x }}{% endfor %}",
    "{{ lipsum(2, false, 5, 6).split('\\n\\n')|length }} {{ lipsum(1, true, 3, 4)[:3] }}",
    "{{ dict(a=1, **{'b': 2}) }} {{ dict(**{'c': 3}) }}",
    "{% set nsx = namespace(a=1) %}{% set nsx.b = nsx.a + 1 %}{{ nsx.a }}{{ nsx.b }}",
    "{{ range(5)[1:3]|list }} {{ range(0, 10, 3)|list }} {{ range(5, 0, -1)|list }} {{ range(-3)|list }}",
    "{{ range(3)|join(',') }} {{ range(3)|first }} {{ range(3)|random is number }}",
    "{% for a, b in [[1, 2]]|map('list') %}{{ a }}{{ b }}{% endfor %}",
    "{{ (users|first).name }} {{ (users|last)['city'] }}",
    "{{ users[0].keys()|list }} {{ users[0].items()|list|first }}",
)


# ---------------------------------------------------------------- generators and runtime-checked names
cases(
    "generators",
    "{% set g = [1, 2, 3]|select('odd') %}{{ g|list }}{{ g|list }}",
    "{% set g = [1, 2, 3]|select('odd') %}{{ g|first }}{{ g|list }}",
    "{% if []|select('odd') %}truthy{% endif %} {% if []|select('odd')|list %}x{% else %}empty list{% endif %}",
    "{% for x in [1, 2, 3]|select('odd') %}{{ loop.length }}{{ loop.last }}{% endfor %}",
    "{{ (items|select('odd'))[0] }}|{{ 1 in [1, 2]|select('odd') }}",
    "{{ items|select('odd') is sequence }}{{ items|select('odd') is iterable }} {{ items|reverse is sequence }}",
    "{{ {'a': 1}|reverse|list }} {{ items|select('odd')|sort }} {{ items|select('odd')|max }} {{ items|select('odd')|sum }}",
    "{{ (items|reverse)|first }} {{ items|select('odd')|batch(1)|list }} {{ items|select('odd')|slice(1)|list }}",
    "{% set a, b = items|select('odd') %}{{ a }}{{ b }} {{ items|select('odd')|unique|list }} {{ items|select('odd')|reverse|list }}",
    "{{ items|map('string')|join }} {{ users|map(attribute='name')|select('ne', 'bob')|join(',') }}",
    "{% set m = users|map(attribute='age') %}{{ m|sum }}|{{ m|sum }}",
    "{{ items|select('odd') == items|select('odd') }}",
    "{{ (1, 2)|reverse|list }} {{ range(3)|reverse|list }}",
    "{% if true %}{{ 1 if true else 2|nosuch }}{% endif %}",
    "{{ 1 if true else 2|nosuch }} {{ 'x' if false else 'y' }}",
    "{% if false %}{{ 1|nosuch }}{% endif %}ok",
    "{% if false %}{{ 1 is nosuch }}{% endif %}ok",
    "{% if 'nosuch' is filter %}{{ 1|nosuch }}{% else %}guarded{% endif %}",
    "{% if false %}{% set y = 1|nosuch %}{% endif %}ok",
    "{% if false %}{% elif false %}{{ 1|nosuch }}{% else %}{{ 2 }}{% endif %}",
)
for t in ["{{ [1, 2]|select('odd')|length }}", "{{ [1, 2]|reverse|length }}", "{{ [1, 2]|batch(1)|length }}",
          "{{ [1]|unique|length }}", "{{ d|items|length }}", "{{ items|select('odd')|tojson }}", "{{ items|select('odd')|count }}",
          "{{ items|select('odd')|last }}", "{{ items|select('odd')|random }}", "{{ items|select('odd')|dictsort }}",
          "{{ 1|nosuch if true else 2 }}", "{{ 1 if 1|nosuch else 2 }}", "{{ 1 if false else 2|nosuch }}",
          "{% if true %}{{ 1|nosuch }}{% endif %}", "{% if 1|nosuch %}{% endif %}", "{% if true %}{{ 1 is nosuch }}{% endif %}ok",
          "{% if false %}{% for i in [1] %}{{ i|nosuch }}{% endfor %}{% endif %}ok",
          "{% if false %}{% macro m() %}{{ 1|nosuch }}{% endmacro %}{% endif %}ok", "{% for i in [] %}{{ i|nosuch }}{% endfor %}",
          "{% if false %}{% set x | nosuch %}{% endset %}{% endif %}ok", "{% if false %}{% filter nosuch %}{% endfilter %}{% endif %}ok"]:
    case("generators_err", t)


# ---------------------------------------------------------------- inheritance and undefined
cases(
    "inherit",
    "{% include 'child.html' %}",
    "{% include 'grandchild.html' %}",
    "{% extends 'base.html' %}",
    "{% extends 'base.html' %}{% block title %}{{ name|upper }}{% endblock %}",
    "{% extends 'base.html' %}{% block head %}H:{{ super() }}{% endblock %}",
    "{% set layout = 'base.html' %}{% include 'dyn.html' %}",
    "before{% extends 'base.html' %}after",
    "{% extends 'child.html' %}{% block title %}{{ super() }}+{% endblock %}",
)
cases(
    "undefined",
    "{{ undefined_x ~ 'a' }} {{ undefined_x|join }} {{ undefined_x|list }} {{ undefined_x|length }} {{ undefined_x|string }}|",
    "{% for x in d.missing %}x{% else %}no items{% endfor %}",
    "{{ undefined_x == undefined_x }} {{ undefined_x != 1 }} {{ undefined_x is none }} {{ not undefined_x }}",
    "{{ undefined_x|default(d.missing)|default('deep') }}",
    "{{ d.missing|default([])|length }} {{ (d.missing or [])|length }}",
    "{{ undefined_x|int }} {{ undefined_x|float }} {{ undefined_x|lower }}|{{ undefined_x|trim }}|",
    "{{ [undefined_x] }} {{ (undefined_x,) }} {{ {'k': undefined_x} }}",
    "{{ undefined_x in [1] }} {{ 1 in undefined_x }} {{ 'a' in undefined_x }}",
    "{% if undefined_x is defined and undefined_x.y %}x{% else %}short-circuit{% endif %}",
    "{{ undefined_x|dictsort if false else 'n' }} {{ undefined_x|sort }} {{ undefined_x|unique|list }}",
    "{{ undefined_x|e }}|{{ undefined_x|tojson if false else '' }}|{{ undefined_x|items|list }}",
    "{% set x = d.missing %}{{ x is undefined }}",
    "{{ '%s' % undefined_x }}|{{ '{}'.format(undefined_x) }}|",
    "{% macro m(a) %}{{ a is defined }}{% endmacro %}{{ m() }} {{ m(undefined_x) }}",
    "{{ dict(a=undefined_x) }} {{ [1, 2][undefined_x] if false else 'n' }}",
)
for t in ["{{ undefined_x.attr }}", "{{ undefined_x[0] }}", "{{ undefined_x() }}", "{{ undefined_x + 'a' }}", "{{ undefined_x * 2 }}",
          "{{ undefined_x > 1 }}", "{{ undefined_x|abs }}", "{{ undefined_x|first }}|{{ undefined_x|first|upper }}", "{{ undefined_x|round }}",
          "{% for a, b in undefined_x %}{% endfor %}ok", "{{ undefined_x|sum }}", "{{ undefined_x|max }}", "{{ undefined_x.a.b }}",
          "{{ d.missing.deeper }}", "{{ items[9].x }}", "{{ undefined_x|attr('a') }}", "{{ range(undefined_x) }}",
          "{% extends 'nope.html' %}", "{% extends 'base.html' %}{% extends 'base.html' %}", "{% block b %}{% endblock %}{% block b %}{% endblock %}"]:
    case("undefined_err", t)


# ---------------------------------------------------------------- adapter-style macros (third batch)
cases(
    "adapter",
    "{% macro star(from, except=[]) %}{{ from }}-{{ except|join }}{% endmacro %}{{ star(from='t', except=['a']) }} {{ star('u') }}",
    "{% macro m(in_, is_=none) %}{{ in_ }}{{ is_ }}{% endmacro %}{{ m(1, is_=2) }}",
    "{% set target = {'type': 'postgres', 'database': 'db'} %}{% if target.type in ('postgres', 'redshift') %}pg-like{% endif %}",
    "{% set sql_header = none %}{{ sql_header if sql_header is not none }}|{% set sql_header = 'SET x' %}{{ sql_header if sql_header is not none }}",
    "{% macro create_table_as(temporary, relation, sql) -%}\n  create {% if temporary: -%}temporary{%- endif %} table\n    {{ relation }}\n  as (\n    {{ sql }}\n  );\n{%- endmacro %}{{ create_table_as(true, 'tmp_x', 'select 1') }}\n{{ create_table_as(false, 'x', 'select 2') }}",
    "{% set cfg = {'contract': {'enforced': true}} %}{%- set contract_config = cfg.get('contract') -%}{%- if contract_config.enforced and (not false) -%}enforced{%- endif -%}",
    "{% set columns = [{'name': 'id', 'data_type': 'int'}, {'name': 'ts', 'data_type': 'timestamp'}] %}({% for c in columns %}{{ c.name }} {{ c.data_type }}{{ ', ' if not loop.last }}{% endfor %})",
    "{%- set ns = namespace(cols=[]) -%}{%- for c in cols if not c.startswith('_') -%}{%- set ns.cols = ns.cols + ['\"' ~ c ~ '\"'] -%}{%- endfor -%}{{ ns.cols|join(', ') }}",
    "{% set exclude = ['name'] %}{% for col in cols|reject('in', exclude) %}{{ col }} {% endfor %}",
    "{% set rel_cols = [{'name': 'A', 'dtype': 'int'}, {'name': 'b', 'dtype': 'text'}] %}{% for col in rel_cols|rejectattr('name', 'in', ['A']) %}{{ col.name }}{% endfor %}",
    "{%- macro get_batch_size() -%}{{ return(1000) }}{%- endmacro -%}{%- macro get_binding_char() -%}{{ return('%s') }}{%- endmacro -%}insert into t values ({% for i in range(3) %}{{ get_binding_char() }}{{ ',' if not loop.last }}{% endfor %}) -- {{ get_batch_size() * 2 }}",
    "{% set is_incremental = true %}{% set unique_key = ['id', 'ts'] %}{% if unique_key is sequence and unique_key is not string %}{% for k in unique_key %}DBT_INTERNAL_SOURCE.{{ k }} = DBT_INTERNAL_DEST.{{ k }}{{ ' and ' if not loop.last }}{% endfor %}{% else %}single{% endif %}",
    "{% set unique_key = 'id' %}{% if unique_key is sequence and unique_key is not string %}multi{% else %}on {{ unique_key }}{% endif %}",
    "{% set strategy = 'merge' %}{% set valid = ['append', 'merge', 'delete+insert'] %}{% if strategy not in valid %}invalid{% else %}{{ strategy|replace('+', '_') }}{% endif %}",
    "{% set dest_columns = [{'name': 'id'}, {'name': 'Name'}] %}{%- set dest_cols_csv = dest_columns | map(attribute='name') | map('lower') | join(', ') -%}({{ dest_cols_csv }})",
    "{% macro quote_ident(x) %}{{ '\"' ~ x|replace('\"', '\"\"') ~ '\"' }}{% endmacro %}{{ quote_ident('we\"ird') }}",
    "{% set partition_by = {'field': 'created_at', 'data_type': 'timestamp', 'granularity': 'day'} %}{% if partition_by.data_type == 'timestamp' %}timestamp_trunc({{ partition_by.field }}, {{ partition_by.granularity }}){% endif %}",
    "{%- set lines = ['a', 'b'] -%}{{ '\\n'.join(lines) }}|{{ ('x,y'.split(','))|map('trim')|join('+') }}",
    "{% set v = '1.2.3' %}{% set parts = v.split('.')|map('int')|list %}{{ parts }} {{ parts[0] >= 1 and parts[1] >= 2 }}",
    "{% set d2 = {'b': 2, 'a': 1} %}{% for k, v in d2|dictsort %}{{ k }}={{ v }}{% if not loop.last %}&{% endif %}{% endfor %}",
    "{% set x = 'MiXeD' %}{{ x.lower() == 'mixed' }} {{ x|lower == 'mixed' }} {{ x.casefold() }}",
    "{% set meta = {'owner': none} %}{{ meta.owner or 'unowned' }} {{ meta.get('owner') is none }} {{ meta.get('team', 'core') }}",
    "{% macro is_number(x) %}{{ return(x is number and x is not boolean) }}{% endmacro %}{{ is_number(1) }} {{ is_number(true) }} {{ is_number('1') }}",
    "{% set seconds = 3725 %}{{ '%02d:%02d:%02d' % (seconds // 3600, seconds % 3600 // 60, seconds % 60) }}",
    "{% set rows = [['a', 1], ['b', 2]] %}{% for name, n in rows %}{{ name }}{{ n }}{% endfor %} {{ rows|map('first')|join }} {{ rows|map('last')|sum }}",
    "{{ [1, 2, 3]|map('string')|map('length')|sum }} {{ ['x', 'yy']|map('length')|max }}",
    "{% set tags = ['b', 'a', 'b'] %}{{ tags|unique|sort|join(',') }} {{ tags|length != tags|unique|list|length }}",
    "{% set s = 'select * from x -- comment' %}{{ s.split('--')[0].strip() }}|{{ s.find('from') }}|{{ s[s.find('from'):].split()[1] }}",
    "{% set env_name = 'prod' %}{{ {'prod': 'analytics', 'dev': 'dev_' ~ 'me'}[env_name] }} {{ {'prod': 1}.get('dev', 'n/a') }}",
    "{% call(row) each_row([1, 2]) if false %}{% endcall %}",
)


# ---------------------------------------------------------------- lexer and parser corners, text filters (fourth batch)
cases(
    "lexer",
    "{{ '}}' }} {{ \"%}\" }} {{ '{#' }}",
    "{# {{ not }} {% a tag %} #}after",
    "{{\n'multi'\n~\n'line'\n}}",
    "{%\nif\ntrue\n%}ok{%\nendif\n%}",
    "{{ 1 }}{{ 2 }}{# x #}{{ 3 }}",
    "{%- if true -%}{%- if true -%} nested {%- endif -%}{%- endif -%}",
    "{{ 'a' }}   {#- c #}   {{ 'b' }}",
    "{{ [1,2,3] | join(',') }} {{ items | length }} {{ name | upper | lower }}",
    "{{ d [ 'a' ] }} {{ d . a }} {{ items [ 0 ] }}",
    "{% for x in items %}{{x}}{%endfor%}",
    "{%if true%}compact{%endif%}",
    "{{ 1.5e+3 }} {{ 1E3 }} {{ 2.5E-3 }} {{ 0.5 }} {{ 10. if false else 'no trailing dot' }}",
    "{{ 0 }} {{ 00 }} {{ 0_0 }} {{ 1_2_3 }}",
    "{{ 'tab\\there' }} {{ 'nul\\x00end'|length }} {{ '\\u263a' }} {{ '\\N{BULLET}' if false else 'skip' }}",
    "{{ \"it's\" ~ 'say \"hi\"' }}",
    "{% set x = 'multi\nline' %}{{ x }}",
    "{{ - 1 }} {{ not not 1 }} {{ + - 1 }}",
    "{{ x|default('x') }}{{x|default('y')}}",
    "{{ 'abc'[1] }}{{ 'abc' [2] }}",
    "{% raw %}{% raw %}{% endraw %}",
    "{%- raw %}  a  {% endraw -%}  b",
    "a {%- raw %}b{% endraw %}",
    "{{ ((1 + 2) * (3 - 1)) ** 2 }}",
    "{{ {'a': [1, {'b': (2, 3)}]}['a'][1]['b'][1] }}",
    "{{ items|join(', ')|length }}{{ (items|join(', '))|length }}",
    "{% if 1 %}{% elif undefined_call() %}{% endif %}short",
    "{{ 1 if true else undefined_call() }}",
    "{{ true or undefined_call() }} {{ false and undefined_call() }}",
    "{% for x in [] %}{{ undefined_call() }}{% endfor %}ok",
    "{{ ''.join(['a', 'b']) }}{{ ' '.join(words) }}",
    "{{ 'x' }}\n{# comment at end #}",
    "{% if true %}a{% endif %}\n{% if true %}b{% endif %}\n",
)
for t in ["{{ 1 +* 2 }}", "{{ 'a' 'b }}", "{% if true %}{% endfor %}", "{% for x in y %}", "{{ 1 }", "{{ foo( }}",
          "{% set x = %}", "{% macro m(1) %}{% endmacro %}", "{% macro m(a.b) %}{% endmacro %}", "{{ d[] }}", "{{ [1,,2] }}",
          "{{ {1:} }}", "{{ 1 if 2 else }}", "{% with %}", "{% import 'macros.sql' %}", "{% from 'macros.sql' import a as %}",
          "{% raw %}", "{{ x|default( }}", "{% include %}", "{% endmacro %}", "{% else %}", "{{ not }}", "{{ ** 2 }}",
          "{% for in items %}{% endfor %}", "{% for x items %}{% endfor %}", "{% call m %}{% endcall %}", "{% filter %}{% endfilter %}",
          "{{ 1e }}", "{{ 0x }}", "{{ 1.2.3 }}", "{% set a.b.c = 1 %}", "{{ a = 1 }}"]:
    case("lexer_err", t)
cases(
    "textfilters",
    "{{ 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor'|wordwrap(20) }}",
    "{{ 'a b c d e f g'|wordwrap(3) }}",
    "{{ 'supercalifragilistic word'|wordwrap(5) }}",
    "{{ 'supercalifragilistic word'|wordwrap(5, false) }}",
    "{{ 'one two three'|wordwrap(7, wrapstring='<br>') }}",
    "{{ 'para one line\\n\\npara two'|wordwrap(8) }}",
    "{{ 'a-hyphenated-word here'|wordwrap(10) }}",
    "{{ {'a': 1, 'b': [1, 2, 3]}|pprint }}",
    "{{ users|pprint }}",
    "{{ range(30)|list|pprint }}",
    "{{ 'x'|pprint }} {{ 1.5|pprint }} {{ (1,)|pprint }}",
    "{{ 'see http://example.com/path?q=1 and https://x.io.'|urlize }}",
    "{{ 'www.example.org'|urlize }}",
    "{{ 'mail foo@bar.com now'|urlize }}",
    "{{ 'http://example.com'|urlize(nofollow=true) }}",
    "{{ 'http://example.com'|urlize(target='_blank') }}",
    "{{ '(http://example.com)'|urlize }}",
    "{{ 'no links here'|urlize }}",
    "{{ '<script>'|urlize }}",
    "{{ 'Hello   World'|striptags }} {{ '<p>a</p>\\n<p>b</p>'|striptags }} {{ 'x &lt; y'|striptags }}",
    "{{ 'café naïve'|title }} {{ 'ÉCOLE'|lower }} {{ 'élan'|capitalize }}",
    "{{ 'aBc'|swapcase if false else 'aBc'.swapcase() }}",
    "{{ '  indented\\n  lines'|indent(2) }}",
    "{{ 'x y'|urlencode }} {{ 'a+b=c&d'|urlencode }} {{ '~-._'|urlencode }}",
    "{{ 'word'|center(11, ) }}|{{ '  x  '|trim|center(3) }}|",
    "{{ 'üñí'|length }} {{ 'üñí'|upper }} {{ 'üñí'[1] }} {{ 'üñí'|reverse }} {{ 'üñí'|truncate(3, true, '', 0) }}",
    "{{ 'ÀÉÎ'|lower }} {{ 'ß'|capitalize }} {{ 'ǆemal'|title }}",
)


# ---------------------------------------------------------------- imports, context and callers (fifth batch)
cases(
    "imports",
    "{% import 'ctxmacros.sql' as c %}{{ c.show() }}|{{ c.show(k=1) }}|{{ c.top }}",
    "{% import 'ctxmacros.sql' as c with context %}{{ c.show() }}",
    "{% from 'ctxmacros.sql' import show %}{{ show() }}",
    "{% from 'ctxmacros.sql' import show with context %}{{ show() }}",
    "{% from 'ctxmacros.sql' import outer_caller %}{% call outer_caller() %}{{ name }}{% endcall %}",
    "{% from 'ctxmacros.sql' import rec %}{{ rec(3) }}",
    "{% import 'imports_other.sql' as o %}{{ o.via() }}",
    "{% set name = 'overridden' %}{% import 'ctxmacros.sql' as c with context %}{{ c.show() }}",
    "{% for name in ['loopname'] %}{% import 'ctxmacros.sql' as c with context %}{{ c.show() }}{% endfor %}",
    "{% import 'ctxmacros.sql' as c %}{% set f = c.show %}{{ f() }}",
    "{% import 'macros.sql' as m %}{{ m }}",
    "{% macro local(x) %}<{{ x }}>{% endmacro %}{% from 'caller.sql' import each %}{% call(v) each([1, 2]) %}{{ local(v) }}{% endcall %}",
    "{% from 'caller.sql' import wrap %}{% macro twice() %}{{ caller() }}{{ caller() }}{% endmacro %}{% call wrap('a') %}{% call twice() %}x{% endcall %}{% endcall %}",
    "{% import 'macros.sql' as m %}{% set d2 = {'f': m.hello} %}{{ d2.f('dict') }}",
    "{% include 'ctxmacros.sql' %}{{ show() }}|{{ top }}|",
)
for t in ["{% import 'ctxmacros.sql' as c %}{{ c.show(1) }}", "{% import 'macros.sql' as m %}{{ m.hello(1, 2) }}",
          "{% from 'ctxmacros.sql' import nothere as n %}{{ n() }}", "{% import 'macros.sql' as m %}{% set m.x = 1 %}"]:
    case("imports_err", t)


cases(
    "wordwrap",
    "{{ 'well-known self-evident x-ray re-enter co-op'|wordwrap(9) }}",
    "{{ 'em--dash between--words here'|wordwrap(8) }}",
    "{{ 'a-b-c-d-e-f-g-h-i-j-k'|wordwrap(4) }}",
    "{{ 'state-of-the-art thinking'|wordwrap(12, break_on_hyphens=false) }}",
    "{{ 'averyveryverylongword and more'|wordwrap(6, false) }}",
    "{{ '   leading spaces and   inner   runs   '|wordwrap(10) }}",
    "{{ 'tab\there and\tthere'|wordwrap(6) }}",
    "{{ 'x' * 25|wordwrap(7) if false else ('x' * 25)|wordwrap(7) }}",
    "{{ 'multi\\nline input that wraps'|wordwrap(9, wrapstring=' / ') }}",
    "{{ '---dashes--- here'|wordwrap(5) }}",
    "{{ 'one-two three-four'|wordwrap(1) }}",
)


cases(
    "corners",
    "{{ -0.0 }} {{ 0.0 * -1 }} {{ -7.0 // 2 }} {{ -0.5|round }} {{ (-2.5)|round }} {{ -1.25|round(1) }}",
    "{{ [0.1, 0.2, 0.3]|sum }} {{ [1, 2.5]|sum }} {{ 1e16 + 1 }} {{ 2 ** 53 + 1.0 }}",
    "{{ d|sort }} {{ d|unique|list }} {{ d|first }} {{ d|max }} {{ d|join(',') }}",
    "{{ 'a' in d.keys() }} {{ 1 in d.values() }} {{ ('a', 1) in d.items() }} {{ d.keys()|length }}",
    "{{ ['b', 'A', 'a', 'B']|sort }} {{ ['b', 'A', 'a', 'B']|sort(case_sensitive=true) }} {{ ['b', 'A', 'a', 'B']|unique|list }}",
    "{{ '%r' % 1.0 }} {{ '%r' % 'it\\'s' }} {{ '%s' % 1e-7 }} {{ '%r' % [1.5, 'x'] }}",
    "{{ ['a\\\\b'] }} {{ ('\"',) }} {{ {'k': '\\t'} }}",
    "{{ 1 == true }} {{ 0 == false }} {{ {1: 'a'}[true] }} {{ [true, 1, 1.0]|unique|list }}",
    "{{ 10 % 3.5 }} {{ -10 % 3.5 }} {{ 10 // 3.5 }} {{ 2 ** -2 }} {{ (-2) ** -1 }}",
    "{{ 3 * 'ab' ~ 'c' }} {{ [0] * 3 + [1] }}",
    "{{ 100000000000000000000 // 3 }} {{ 100000000000000000000 % 7 }} {{ -100000000000000000000 // 7 }} {{ 100000000000000000000 / 4 }}",
    "{{ 12345678901234567890 > 1.5 }} {{ 12345678901234567890 == 12345678901234567890.0 }} {{ 2 ** 64 == 18446744073709551616 }}",
    "{{ (2 ** 64)|string|length }} {{ (2 ** 64)|float }} {{ (2 ** 64)|abs }} {{ -(2 ** 64)|abs }}",
    "{{ 3.0 == 3 }} {{ 3.5|int }} {{ -3.5|int }} {{ 3.999999|round(3) }}",
    "{{ 'abc'.find('') }} {{ 'abc'.count('') }} {{ ''.split(',') }} {{ ''.split() }} {{ ','.split(',') }}",
    "{{ 'a,b,c'.split(',', 0) }} {{ 'a b c'.split(None, 1) }} {{ ' a b '.rsplit(None, 1) }} {{ 'a,b,c'.rsplit(',', -1) }}",
    "{{ 'Hello'.center(10, '-') }} {{ 'Hi'.center(7, '*') }} {{ 'x'.ljust(0) }}",
    "{{ 'abc'.startswith('') }} {{ 'abc'.endswith(('c', 'z')) }} {{ 'abc'.startswith('b', 1, 2) }}",
    "{{ 'A1 b2'.title() }} {{ \"they're bill's\".title() }} {{ 'hello world'.capitalize() }}",
    "{{ '  x '.strip(' x') }}|{{ 'xyzzy'.rstrip('yz') }}|{{ 'www.example.com'.lstrip('cmowz.') }}",
    "{{ '1,234'.replace(',', '')|int + 1 }} {{ '3.14'|float * 2 }}",
    "{{ 'ﬁle'.upper() }} {{ 'İ'.lower()|length }}",
    "{{ [3, 1, 2]|sort(reverse=true)|first }} {{ [[2, 'b'], [1, 'a'], [2, 'a']]|sort }}",
    "{{ [{'n': 2}, {'n': 1}]|sort(attribute='n')|map(attribute='n')|list }} {{ users|sort(attribute='age', reverse=true)|map(attribute='age')|list }}",
    "{{ items|batch(2)|map('list')|list }} {{ items|slice(2)|map('length')|list }}",
    "{{ 'x'|replace('', '-') }} {{ 'aaa'|replace('aa', 'b') }}",
    "{{ '%s' % (none,) }} {{ '%(a)s %(a)r' % {'a': none} }}",
    "{{ namespace(a=1).a }} {{ dict(a=1).a }} {{ dict(a=1)['a'] }}",
    "{{ cycler(1, 2).next() + cycler(3).next() }}",
)


# ---------------------------------------------------------------- found by FuzzRender
cases("fuzzfound", "{{ '%.*f' % (2, 3.14159) }} {{ '%*.*f|' % (8, 3, 2.5) }}")
for t in ["{{'%.*'%''}}", "{{ '%.*f' % ('a', 1.0) }}", "{{ '{:c}'.format(1.5) }}"]:
    case("fuzzfound_err", t)


cases(
    "dbt_filters",
    "{{ '1'|as_number }} {{ 'true'|as_bool }} {{ [1]|as_native }} {{ 5|as_text }} {{ ('x'|as_text) ~ 'y' }}",
    "{{ [1]|is_list }} {{ (1,)|is_list }} {{ 'ab'|is_list }} {{ d|is_list }} {{ undefined_x|is_list }}",
)


# ---------------------------------------------------------------- native rendering (dbt's YAML values)
NATIVE = [
    "{{ n }}", "{{ f }}", "{{ t }}", "{{ none }}", "{{ items }}", "{{ d }}", "{{ name }}",
    "{{ 1 }}", "{{ 1.5 }}", "{{ true }}", "{{ [1, 2] }}", "{{ {'a': 1} }}", "{{ 'x' }}", "{{ 1 + 1 }}", "{{ 'a' ~ 'b' }}",
    "{{ n + 1 }}", "{{ n > 5 }}", "{{ items|length }}", "{{ items|first }}", "{{ 'abc'|upper }}", "{{ [3, 1]|sort }}",
    "{{ n }} ", " {{ n }}", "{{ n }}{{ n }}", "text", "", "{{ '' }}",
    "{{ '1'|as_number }}", "{{ '1.5'|as_number }}", "{{ 'true'|as_bool }}", "{{ 'True'|as_bool }}", "{{ '[1, 2]'|as_native }}",
    "{{ \"{'a': (1, 2)}\"|as_native }}", "{{ 'not a literal'|as_native }}", "{{ '007'|as_text }}", "{{ n|as_text }}",
    "{{ n|as_number }}", "{{ t|as_bool }}", "{{ ' 42'|as_number }}", "{{ '-3'|as_number }}", "{{ 'None'|as_native }}",
    "{{ ('x' ~ n)|as_text }}", "{{ '1'|as_number }} ", "{{ '1e3'|as_number }}", "{{ '0x10'|as_number }}",
    "{% if t %}{{ n }}{% endif %}", "{% if t %}yes{% endif %}", "{% for i in items %}{{ i }}{% endfor %}",
    "{% set x = n * 2 %}{{ x }}", "{% macro m() %}{{ return([1]) }}{% endmacro %}{{ m() }}",
    "{% macro m() %}text{% endmacro %}{{ m() }}", "{{ items|map('string')|list }}", "{{ d.a }}", "{{ nested.x.y[0] }}",
    "{{ none|default(n) }}", "{{ range(3)|list }}", "{{ (1, 2) }}", "{{ [n] }}", "{{ n if t else 'no' }}", "{{ '5' }}",
    "{{ 'True' }}", "{{ [1, n] }}", "{{ -n }}", "{{ n|string }}", "{{ d|dictsort }}",
]
NATIVE_ERR = ["{{ 'x'|as_bool }}", "{{ 'abc'|as_number }}", "{{ 'True'|as_number }}", "{{ '1'|as_bool }}", "{{ undefined_x.y }}"]


def main():
    env = make_env()
    out = []
    names = {}
    for group, template, extra in CASES:
        ctx = json.loads(json.dumps(CTX))
        ctx.update(extra)
        i = names.get(group, 0) + 1
        names[group] = i
        rec = {"name": "%s/%03d" % (group, i), "template": template}
        try:
            rec["output"] = env.from_string(template).render(ctx)
        except Exception as e:  # noqa: BLE001 - the class is the expectation
            rec["error"] = type(e).__name__
        if extra:
            rec["context"] = extra
        out.append(rec)
    nenv = make_native_env()
    for kind, templates in (("native", NATIVE), ("native_err", NATIVE_ERR)):
        for i, template in enumerate(templates, 1):
            rec = {"name": "%s/%03d" % (kind, i), "template": template, "native": True}
            try:
                v = nenv.from_string(template).render(json.loads(json.dumps(CTX)))
                if isinstance(v, str):  # marker subclasses are strings
                    v = str(v)
                rec["value"], rec["type"] = repr(v), type(v).__name__
            except Exception as e:  # noqa: BLE001
                rec["error"] = type(e).__name__
            out.append(rec)
    doc = {
        "generator": "testdata/gen.py",
        "jinja2": jinja2.__version__,
        "python": sys.version.split()[0],
        "context": CTX,
        "templates": LOADER,
        "cases": out,
    }
    path = os.path.join(HERE, "corpus.json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    print("wrote %d cases to %s" % (len(out), path), file=sys.stderr)


if __name__ == "__main__":
    main()
