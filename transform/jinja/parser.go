package jinja

import (
	"math/big"
	"strconv"
	"strings"
)

type pos struct{ line, col int }

// ---- expressions ----

type expr interface{ at() pos }

type (
	constExpr struct {
		pos
		v any
	}
	nameExpr struct {
		pos
		name string
	}
	tupleExpr struct {
		pos
		items []expr
	}
	listExpr struct {
		pos
		items []expr
	}
	dictExpr struct {
		pos
		keys, vals []expr
	}
	getattrExpr struct {
		pos
		obj  expr
		attr string
	}
	getitemExpr struct {
		pos
		obj, key expr
	}
	sliceExpr struct {
		pos
		start, stop, step expr
	}
	kwArg struct {
		name string
		val  expr
	}
	callArgs struct {
		args      []expr
		kwargs    []kwArg
		dynArgs   expr
		dynKwargs expr
	}
	callExpr struct {
		pos
		fn expr
		callArgs
	}
	filterExpr struct {
		pos
		node    expr // nil inside filter blocks
		name    string
		unknown bool // not a known filter when parsed: checked at runtime
		callArgs
	}
	testExpr struct {
		pos
		node    expr
		name    string
		negate  bool
		unknown bool
		callArgs
	}
	binExpr struct {
		pos
		op   string
		l, r expr
	}
	unaryExpr struct {
		pos
		op string // "neg", "pos", "not"
		x  expr
	}
	cmpOp struct {
		op string
		x  expr
	}
	compareExpr struct {
		pos
		first expr
		ops   []cmpOp
	}
	condExpr struct {
		pos
		test, then, els expr
	}
	concatExpr struct {
		pos
		items []expr
	}
)

func (p pos) at() pos { return p }

// ---- statements ----

type stmt interface{ at() pos }

type (
	dataStmt struct {
		pos
		text string
	}
	printStmt struct {
		pos
		x expr
	}
	ifStmt struct {
		pos
		test expr
		body []stmt
		els  []stmt
	}
	forStmt struct {
		pos
		reuse     bool // the body defines no macro, so one scope can serve every iteration
		target    expr
		iter      expr
		cond      expr
		body      []stmt
		els       []stmt
		recursive bool
	}
	setStmt struct {
		pos
		target expr
		x      expr
	}
	setBlockStmt struct {
		pos
		target expr
		filter expr
		body   []stmt
	}
	macroStmt struct {
		pos
		m *macroDef
	}
	callBlockStmt struct {
		pos
		call   *callExpr
		caller *macroDef
	}
	filterBlockStmt struct {
		pos
		filter expr
		body   []stmt
	}
	withStmt struct {
		pos
		targets []expr
		values  []expr
		body    []stmt
	}
	doStmt struct {
		pos
		x expr
	}
	includeStmt struct {
		pos
		template      expr
		ignoreMissing bool
		withContext   bool
	}
	importStmt struct {
		pos
		template    expr
		target      string
		withContext bool
	}
	fromImportStmt struct {
		pos
		template    expr
		names       [][2]string
		withContext bool
	}
	breakStmt    struct{ pos }
	continueStmt struct{ pos }
	blockStmt    struct {
		pos
		name   string
		body   []stmt
		scoped bool
	}
	extendsStmt struct {
		pos
		template expr
	}
	autoescapeStmt struct {
		pos
		on   expr
		body []stmt
	}
	tagStmt struct {
		pos
		tag    *Tag
		header TagHeader
		body   []stmt
		src    string
		macro  *macroDef
	}
)

type macroDef struct {
	name        string
	args        []string
	defaults    []expr // aligned to the last len(defaults) args
	body        []stmt
	usesVarargs bool
	usesKwargs  bool
	usesCaller  bool
	pos         pos
}

// ---- parser ----

type parser struct {
	toks   []token
	i      int
	name   string
	env    *Environment
	src    string
	blocks map[string]*blockStmt
	ends   []string
	// soft is set inside {% if %} tests and bodies, where Jinja2 checks
	// filter and test names at runtime; pending holds unknown names seen
	// elsewhere, forgiven if they turn out to be in a conditional expression.
	soft    bool
	pending []pos
	pendMsg []string
}

func (p *parser) unknownName(ps pos, kind, name string) {
	if p.soft {
		return
	}
	p.pending = append(p.pending, ps)
	p.pendMsg = append(p.pendMsg, "No "+kind+" named '"+name+"'.")
}

func (p *parser) flushPending() error {
	if len(p.pending) == 0 {
		return nil
	}
	e := p.failAtPos(p.pending[0], "%s", p.pendMsg[0]).(*Error)
	e.Kind = ErrTemplateAssertion
	return e
}

// hard parses with runtime name checks off (a new frame in Jinja2's compiler).
func (p *parser) hard(f func() error) error {
	saved := p.soft
	p.soft = false
	err := f()
	p.soft = saved
	return err
}

func (p *parser) cur() token  { return p.toks[p.i] }
func (p *parser) peek() token { return p.toks[min(p.i+1, len(p.toks)-1)] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

func (p *parser) failAt(t token, format string, args ...any) error {
	e := newErr(ErrSyntax, format, args...)
	e.Template, e.Line, e.Col = p.name, t.line, t.col
	return e
}

func (p *parser) isOp(v string) bool   { t := p.cur(); return t.kind == tOp && t.val == v }
func (p *parser) isName(v string) bool { t := p.cur(); return t.kind == tName && t.val == v }

func (p *parser) expectOp(v string) (token, error) {
	t := p.cur()
	if t.kind != tOp || t.val != v {
		return t, p.failAt(t, "expected token '%s', got %s", v, t.describe())
	}
	return p.next(), nil
}

func (p *parser) expectKind(k tokKind) (token, error) {
	t := p.cur()
	if t.kind != k {
		return t, p.failAt(t, "expected token '%s', got %s", tokNames[k], t.describe())
	}
	return p.next(), nil
}

func (p *parser) expectName(v string) error {
	t := p.cur()
	if t.kind != tName || t.val != v {
		return p.failAt(t, "expected token '%s', got %s", v, t.describe())
	}
	p.next()
	return nil
}

func posOf(t token) pos { return pos{t.line, t.col} }

func parseTemplate(env *Environment, name, src string) ([]stmt, map[string]*blockStmt, error) {
	buf := tokPool.Get().(*[]token)
	toks, err := tokenizeInto(*buf, name, src)
	defer func() {
		// Nothing parsed keeps a token (values are copied out).
		if cap(toks) <= 1<<16 {
			*buf = toks[:0]
			tokPool.Put(buf)
		}
	}()
	if err != nil {
		return nil, nil, err
	}
	p := &parser{toks: toks, name: name, env: env, src: src, blocks: map[string]*blockStmt{}}
	body, err := p.subparse(nil)
	if err != nil {
		return nil, nil, err
	}
	if p.cur().kind != tEOF {
		return nil, nil, p.failAt(p.cur(), "unexpected token")
	}
	return body, p.blocks, nil
}

// subparse parses statements until a block tag whose name is in endTokens
// (the parser stops on that name, after "{%").
func (p *parser) subparse(endTokens []string) ([]stmt, error) {
	var body []stmt
	for {
		if err := p.flushPending(); err != nil {
			return nil, err
		}
		t := p.cur()
		switch t.kind {
		case tEOF:
			if len(endTokens) > 0 || len(p.ends) > 0 {
				return nil, p.unexpectedEnd(t, endTokens)
			}
			return body, nil
		case tData:
			p.next()
			body = append(body, &dataStmt{posOf(t), t.val})
		case tVarBegin:
			p.next()
			x, err := p.parseTuple(false, true, nil, false)
			if err != nil {
				return nil, err
			}
			if _, err := p.expectKind(tVarEnd); err != nil {
				return nil, err
			}
			body = append(body, &printStmt{posOf(t), x})
		case tBlockBegin:
			p.next()
			c := p.cur()
			if c.kind == tName {
				for _, e := range endTokens {
					if c.val == e {
						return body, nil
					}
				}
			}
			s, err := p.parseStatement()
			if err != nil {
				return nil, err
			}
			if s != nil {
				body = append(body, s)
			}
		default:
			return nil, p.failAt(t, "unexpected %s", t.describe())
		}
	}
}

func (p *parser) unexpectedEnd(t token, endTokens []string) error {
	expected := ""
	if len(endTokens) > 0 {
		qs := make([]string, len(endTokens))
		for i, e := range endTokens {
			qs[i] = "'" + e + "'"
		}
		expected = " Jinja was looking for the following tags: " + strings.Join(qs, " or ") + "."
	}
	return p.failAt(t, "Unexpected end of template.%s", expected)
}

// parseStatements parses the body of a block statement: optional colon,
// block end, then statements until one of ends; with drop it consumes the
// end tag name and its block end.
func (p *parser) parseStatements(ends []string, drop bool) ([]stmt, error) {
	if p.isOp(":") {
		p.next()
	}
	if _, err := p.expectKind(tBlockEnd); err != nil {
		return nil, err
	}
	p.ends = append(p.ends, ends...)
	body, err := p.subparse(ends)
	p.ends = p.ends[:len(p.ends)-len(ends)]
	if err != nil {
		return nil, err
	}
	if drop {
		p.next()
		if _, err := p.expectKind(tBlockEnd); err != nil {
			return nil, err
		}
	}
	return body, nil
}

func (p *parser) parseStatement() (stmt, error) {
	t := p.cur()
	if t.kind != tName {
		return nil, p.failAt(t, "tag name expected")
	}
	ps := posOf(t)
	switch t.val {
	case "for", "macro", "call", "filter", "with", "block":
		// these open a new frame in Jinja2's compiler: names are checked
		// when compiled even inside {% if %}
		saved := p.soft
		p.soft = false
		defer func() { p.soft = saved }()
	default:
		if p.env != nil && p.env.tags[t.val] != nil {
			saved := p.soft
			p.soft = false
			defer func() { p.soft = saved }()
		}
	}
	switch t.val {
	case "if":
		return p.parseIf()
	case "for":
		return p.parseFor()
	case "set":
		return p.parseSet()
	case "macro":
		return p.parseMacro()
	case "call":
		return p.parseCallBlock()
	case "filter":
		p.next()
		f, err := p.parseFilter(nil, true)
		if err != nil {
			return nil, err
		}
		body, err := p.parseStatements([]string{"endfilter"}, true)
		if err != nil {
			return nil, err
		}
		return &filterBlockStmt{ps, f, body}, nil
	case "with":
		return p.parseWith()
	case "do":
		p.next()
		x, err := p.parseTuple(false, true, nil, false)
		if err != nil {
			return nil, err
		}
		_, err = p.expectKind(tBlockEnd)
		return &doStmt{ps, x}, err
	case "break", "continue":
		p.next()
		if !p.inLoop() {
			return nil, p.failAt(t, "Encountered unknown tag '%s'.", t.val)
		}
		if _, err := p.expectKind(tBlockEnd); err != nil {
			return nil, err
		}
		if t.val == "break" {
			return &breakStmt{ps}, nil
		}
		return &continueStmt{ps}, nil
	case "include":
		return p.parseInclude()
	case "import":
		return p.parseImport()
	case "from":
		return p.parseFrom()
	case "block":
		return p.parseBlock()
	case "extends":
		p.next()
		x, err := p.parseExpression(true)
		if err != nil {
			return nil, err
		}
		_, err = p.expectKind(tBlockEnd)
		return &extendsStmt{ps, x}, err
	case "autoescape":
		p.next()
		on, err := p.parseExpression(true)
		if err != nil {
			return nil, err
		}
		body, err := p.parseStatements([]string{"endautoescape"}, true)
		return &autoescapeStmt{ps, on, body}, err
	}
	if p.env != nil {
		if tag, ok := p.env.tags[t.val]; ok {
			return p.parseTag(tag)
		}
	}
	if len(p.ends) > 0 {
		return nil, p.failAt(t, "Encountered unknown tag '%s'. Jinja was looking for the following tags: %s. The innermost block that needs to be closed is '%s'.", t.val, "'"+strings.Join(p.ends, "' or '")+"'", strings.TrimPrefix(p.ends[len(p.ends)-1], "end"))
	}
	return nil, p.failAt(t, "Encountered unknown tag '%s'.", t.val)
}

func (p *parser) inLoop() bool {
	for i := len(p.ends) - 1; i >= 0; i-- {
		e := p.ends[i]
		if e == "endfor" {
			return true
		}
		if e == "endmacro" || e == "endcall" {
			return false
		}
	}
	return false
}

func (p *parser) parseIf() (stmt, error) {
	saved := p.soft
	p.soft = true
	defer func() { p.soft = saved }()
	return p.parseIfTail(posOf(p.next()))
}

// parseIfTail parses an if or elif test, its body and what follows it (an
// elif chain, an else, or the endif).
func (p *parser) parseIfTail(ps pos) (stmt, error) {
	test, err := p.parseTuple(false, false, nil, false)
	if err != nil {
		return nil, err
	}
	node := &ifStmt{pos: ps, test: test}
	node.body, err = p.parseStatements([]string{"elif", "else", "endif"}, false)
	if err != nil {
		return nil, err
	}
	t := p.next()
	switch t.val {
	case "elif":
		sub, err := p.parseIfTail(posOf(t))
		if err != nil {
			return nil, err
		}
		node.els = []stmt{sub}
	case "else":
		node.els, err = p.parseStatements([]string{"endif"}, true)
		if err != nil {
			return nil, err
		}
	default:
		if _, err := p.expectKind(tBlockEnd); err != nil {
			return nil, err
		}
	}
	return node, nil
}

func (p *parser) parseFor() (stmt, error) {
	ps := posOf(p.next())
	target, err := p.parseAssignTarget(false, []string{"in"}, false)
	if err != nil {
		return nil, err
	}
	if err := p.expectName("in"); err != nil {
		return nil, err
	}
	iter, err := p.parseTuple(false, false, []string{"recursive"}, false)
	if err != nil {
		return nil, err
	}
	node := &forStmt{pos: ps, target: target, iter: iter}
	if p.isName("if") {
		p.next()
		node.cond, err = p.parseExpression(true)
		if err != nil {
			return nil, err
		}
	}
	if p.isName("recursive") {
		p.next()
		node.recursive = true
	}
	node.body, err = p.parseStatements([]string{"endfor", "else"}, false)
	if err != nil {
		return nil, err
	}
	node.reuse = !definesMacro(node.body)
	if p.next().val == "endfor" {
		_, err = p.expectKind(tBlockEnd)
		return node, err
	}
	node.els, err = p.parseStatements([]string{"endfor"}, true)
	return node, err
}

func (p *parser) parseSet() (stmt, error) {
	ps := posOf(p.next())
	target, err := p.parseAssignTarget(true, nil, true)
	if err != nil {
		return nil, err
	}
	if p.isOp("=") {
		p.next()
		x, err := p.parseTuple(false, true, nil, false)
		if err != nil {
			return nil, err
		}
		_, err = p.expectKind(tBlockEnd)
		return &setStmt{ps, target, x}, err
	}
	var filter expr
	saved := p.soft
	p.soft = false
	defer func() { p.soft = saved }()
	if p.isOp("|") {
		filter, err = p.parseFilter(nil, false)
		if err != nil {
			return nil, err
		}
	}
	body, err := p.parseStatements([]string{"endset"}, true)
	if err != nil {
		return nil, err
	}
	return &setBlockStmt{ps, target, filter, body}, nil
}

func (p *parser) parseSignature(m *macroDef) error {
	if _, err := p.expectOp("("); err != nil {
		return err
	}
	for !p.isOp(")") {
		if len(m.args) > 0 {
			if _, err := p.expectOp(","); err != nil {
				return err
			}
		}
		t, err := p.expectKind(tName)
		if err != nil {
			return err
		}
		if err := p.checkAssignName(t); err != nil {
			return err
		}
		if p.isOp("=") {
			p.next()
			d, err := p.parseExpression(true)
			if err != nil {
				return err
			}
			m.defaults = append(m.defaults, d)
		} else if len(m.defaults) > 0 {
			return p.failAt(t, "non-default argument follows default argument")
		}
		m.args = append(m.args, t.val)
	}
	p.next()
	return nil
}

func (p *parser) checkAssignName(t token) error {
	switch t.val {
	case "true", "false", "none", "True", "False", "None":
		return p.failAt(t, "cannot assign to name '%s'", t.val)
	}
	return nil
}

func (p *parser) parseMacro() (stmt, error) {
	ps := posOf(p.next())
	t, err := p.expectKind(tName)
	if err != nil {
		return nil, err
	}
	m := &macroDef{name: t.val, pos: ps}
	if err := p.parseSignature(m); err != nil {
		return nil, err
	}
	m.body, err = p.parseStatements([]string{"endmacro"}, true)
	if err != nil {
		return nil, err
	}
	analyzeMacro(m)
	return &macroStmt{ps, m}, nil
}

func (p *parser) parseCallBlock() (stmt, error) {
	ps := posOf(p.next())
	m := &macroDef{name: "caller", pos: ps}
	if p.isOp("(") {
		if err := p.parseSignature(m); err != nil {
			return nil, err
		}
	}
	x, err := p.parseExpression(true)
	if err != nil {
		return nil, err
	}
	call, ok := x.(*callExpr)
	if !ok {
		return nil, p.failAt(p.cur(), "expected call")
	}
	m.body, err = p.parseStatements([]string{"endcall"}, true)
	if err != nil {
		return nil, err
	}
	analyzeMacro(m)
	return &callBlockStmt{ps, call, m}, nil
}

func (p *parser) parseWith() (stmt, error) {
	ps := posOf(p.next())
	node := &withStmt{pos: ps}
	for !p.isKind(tBlockEnd) {
		if len(node.targets) > 0 {
			if _, err := p.expectOp(","); err != nil {
				return nil, err
			}
		}
		target, err := p.parseAssignTarget(false, nil, false)
		if err != nil {
			return nil, err
		}
		if _, err := p.expectOp("="); err != nil {
			return nil, err
		}
		v, err := p.parseExpression(true)
		if err != nil {
			return nil, err
		}
		node.targets = append(node.targets, target)
		node.values = append(node.values, v)
	}
	var err error
	node.body, err = p.parseStatements([]string{"endwith"}, true)
	return node, err
}

func (p *parser) isKind(k tokKind) bool { return p.cur().kind == k }

func (p *parser) parseContextFlag(def bool) (bool, error) {
	if (p.isName("with") || p.isName("without")) && p.peek().kind == tName && p.peek().val == "context" {
		w := p.next().val == "with"
		p.next()
		return w, nil
	}
	return def, nil
}

func (p *parser) parseInclude() (stmt, error) {
	ps := posOf(p.next())
	x, err := p.parseExpression(true)
	if err != nil {
		return nil, err
	}
	node := &includeStmt{pos: ps, template: x, withContext: true}
	if p.isName("ignore") && p.peek().kind == tName && p.peek().val == "missing" {
		p.next()
		p.next()
		node.ignoreMissing = true
	}
	node.withContext, _ = p.parseContextFlag(true)
	_, err = p.expectKind(tBlockEnd)
	return node, err
}

func (p *parser) parseImport() (stmt, error) {
	ps := posOf(p.next())
	x, err := p.parseExpression(true)
	if err != nil {
		return nil, err
	}
	if err := p.expectName("as"); err != nil {
		return nil, err
	}
	t, err := p.expectKind(tName)
	if err != nil {
		return nil, err
	}
	node := &importStmt{pos: ps, template: x, target: t.val}
	node.withContext, _ = p.parseContextFlag(false)
	_, err = p.expectKind(tBlockEnd)
	return node, err
}

func (p *parser) parseFrom() (stmt, error) {
	ps := posOf(p.next())
	x, err := p.parseExpression(true)
	if err != nil {
		return nil, err
	}
	if err := p.expectName("import"); err != nil {
		return nil, err
	}
	node := &fromImportStmt{pos: ps, template: x}
	for {
		if len(node.names) > 0 {
			if !p.isOp(",") {
				break
			}
			p.next()
		}
		if (p.isName("with") || p.isName("without")) && p.peek().kind == tName && p.peek().val == "context" {
			break
		}
		if p.cur().kind != tName {
			if len(node.names) == 0 {
				return nil, p.failAt(p.cur(), "expected token 'name', got %s", p.cur().describe())
			}
			break
		}
		t := p.next()
		if strings.HasPrefix(t.val, "_") {
			e := p.failAt(t, "names starting with an underline can not be imported").(*Error)
			e.Kind = ErrTemplateAssertion
			return nil, e
		}
		alias := t.val
		if p.isName("as") {
			p.next()
			a, err := p.expectKind(tName)
			if err != nil {
				return nil, err
			}
			alias = a.val
		}
		node.names = append(node.names, [2]string{t.val, alias})
	}
	node.withContext, _ = p.parseContextFlag(false)
	_, err = p.expectKind(tBlockEnd)
	return node, err
}

func (p *parser) parseBlock() (stmt, error) {
	ps := posOf(p.next())
	t, err := p.expectKind(tName)
	if err != nil {
		return nil, err
	}
	node := &blockStmt{pos: ps, name: t.val}
	if _, dup := p.blocks[t.val]; dup {
		e := p.failAt(t, "block '%s' defined twice", t.val).(*Error)
		e.Kind = ErrTemplateAssertion
		return nil, e
	}
	if p.isName("scoped") {
		p.next()
		node.scoped = true
	}
	if p.isName("required") {
		p.next()
	}
	node.body, err = p.parseStatements([]string{"endblock"}, true)
	if err != nil {
		return nil, err
	}
	p.blocks[t.val] = node
	return node, nil
}

// parseTag parses a host-registered block tag.
func (p *parser) parseTag(tag *Tag) (stmt, error) {
	t := p.next()
	ps := posOf(t)
	node := &tagStmt{pos: ps, tag: tag}
	hstart := p.i
	if p.cur().kind == tName {
		node.header.Name = p.next().val
	}
	var sig *macroDef
	if p.isOp("(") {
		sig = &macroDef{name: node.header.Name, pos: ps}
		if err := p.parseSignature(sig); err != nil {
			return nil, err
		}
		node.header.Params = sig.args
	}
	for p.isOp(",") {
		p.next()
		if p.isKind(tBlockEnd) {
			break
		}
		if p.cur().kind == tName && p.peek().kind == tOp && p.peek().val == "=" {
			k := p.next().val
			p.next()
			x, err := p.parseExpression(true)
			if err != nil {
				return nil, err
			}
			v, ok := constValue(x)
			if !ok {
				return nil, p.failAt(p.cur(), "%s: argument %s must be a constant", tag.Name, k)
			}
			if node.header.Kwargs == nil {
				node.header.Kwargs = map[string]any{}
			}
			node.header.Kwargs[k] = ToGo(v)
			continue
		}
		x, err := p.parseExpression(true)
		if err != nil {
			return nil, err
		}
		v, ok := constValue(x)
		if !ok {
			if n, isName := x.(*nameExpr); isName {
				v = n.name
			} else {
				return nil, p.failAt(p.cur(), "%s: arguments must be constants", tag.Name)
			}
		}
		node.header.Args = append(node.header.Args, ToGo(v))
	}
	var parts []string
	for _, tk := range p.toks[hstart:p.i] {
		if tk.kind == tString {
			parts = append(parts, pyQuote(tk.val))
		} else {
			parts = append(parts, tk.val)
		}
	}
	node.header.Source = strings.Join(parts, " ")
	if _, err := p.expectKind(tBlockEnd); err != nil {
		return nil, err
	}
	bodyStart := p.i
	end := "end" + tag.Name
	p.ends = append(p.ends, end)
	body, err := p.subparse([]string{end})
	p.ends = p.ends[:len(p.ends)-1]
	if err != nil {
		return nil, err
	}
	node.body = body
	node.src = tokensSource(p.toks[bodyStart : p.i-1])
	p.next()
	if _, err := p.expectKind(tBlockEnd); err != nil {
		return nil, err
	}
	if tag.Macro != nil {
		name, err := tag.Macro(node.header)
		if err != nil {
			return nil, p.failAt(t, "%s: %v", tag.Name, err)
		}
		m := &macroDef{name: name, pos: ps, body: body}
		if sig != nil {
			m.args, m.defaults = sig.args, sig.defaults
		}
		analyzeMacro(m)
		node.macro = m
	}
	return node, nil
}

// tokensSource approximates the body text of a tag from its tokens (data
// is exact; expressions are re-spelled).
func tokensSource(toks []token) string {
	var b strings.Builder
	for _, t := range toks {
		switch t.kind {
		case tData:
			b.WriteString(t.val)
		case tVarBegin:
			b.WriteString("{{ ")
		case tVarEnd:
			b.WriteString(" }}")
		case tBlockBegin:
			b.WriteString("{% ")
		case tBlockEnd:
			b.WriteString(" %}")
		case tString:
			b.WriteString(pyQuote(t.val) + " ")
		default:
			b.WriteString(t.val + " ")
		}
	}
	return b.String()
}

func constValue(x expr) (any, bool) {
	switch e := x.(type) {
	case *constExpr:
		return e.v, true
	case *listExpr:
		l := &List{}
		for _, it := range e.items {
			v, ok := constValue(it)
			if !ok {
				return nil, false
			}
			l.Items = append(l.Items, v)
		}
		return l, true
	case *tupleExpr:
		var t Tuple
		for _, it := range e.items {
			v, ok := constValue(it)
			if !ok {
				return nil, false
			}
			t = append(t, v)
		}
		return t, true
	}
	return nil, false
}

// parseAssignTarget parses a name, a tuple of names, or (withNamespace)
// name.attr.
func (p *parser) parseAssignTarget(withTuple bool, extraEnd []string, withNamespace bool) (expr, error) {
	t := p.cur()
	if withNamespace && t.kind == tName && p.peek().kind == tOp && p.peek().val == "." {
		p.next()
		p.next()
		a, err := p.expectKind(tName)
		if err != nil {
			return nil, err
		}
		return &getattrExpr{posOf(t), &nameExpr{posOf(t), t.val}, a.val}, nil
	}
	var target expr
	var err error
	if withTuple || true {
		target, err = p.parseTuple(true, true, extraEnd, false)
	}
	if err != nil {
		return nil, err
	}
	if err := p.checkTarget(target); err != nil {
		return nil, err
	}
	return target, nil
}

func (p *parser) checkTarget(x expr) error {
	switch e := x.(type) {
	case *nameExpr:
		switch e.name {
		case "true", "false", "none", "True", "False", "None":
			return p.failAtPos(e.pos, "cannot assign to name '%s'", e.name)
		}
		return nil
	case *tupleExpr:
		for _, it := range e.items {
			if err := p.checkTarget(it); err != nil {
				return err
			}
		}
		return nil
	}
	return p.failAtPos(x.at(), "can't assign to %s", exprKind(x))
}

func exprKind(x expr) string {
	switch x.(type) {
	case *constExpr:
		return "'Const'"
	case *callExpr:
		return "'Call'"
	case *listExpr:
		return "'List'"
	}
	return "expression"
}

func (p *parser) failAtPos(ps pos, format string, args ...any) error {
	e := newErr(ErrSyntax, format, args...)
	e.Template, e.Line, e.Col = p.name, ps.line, ps.col
	return e
}

// ---- expression grammar (as Jinja2's parser) ----

func (p *parser) parseExpression(withCond bool) (expr, error) {
	if withCond {
		return p.parseCondexpr()
	}
	return p.parseOr()
}

func (p *parser) parseCondexpr() (expr, error) {
	ps := posOf(p.cur())
	mark := len(p.pending)
	x, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	for p.isName("if") {
		p.next()
		p.pending, p.pendMsg = p.pending[:mark], p.pendMsg[:mark]
		saved := p.soft
		p.soft = true
		test, err := p.parseOr()
		var els expr
		if err == nil && p.isName("else") {
			p.next()
			els, err = p.parseCondexpr()
		}
		p.soft = saved
		if err != nil {
			return nil, err
		}
		x = &condExpr{ps, test, x, els}
	}
	return x, nil
}

func (p *parser) parseOr() (expr, error) {
	ps := posOf(p.cur())
	l, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.isName("or") {
		p.next()
		r, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		l = &binExpr{ps, "or", l, r}
	}
	return l, nil
}

func (p *parser) parseAnd() (expr, error) {
	ps := posOf(p.cur())
	l, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	for p.isName("and") {
		p.next()
		r, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		l = &binExpr{ps, "and", l, r}
	}
	return l, nil
}

func (p *parser) parseNot() (expr, error) {
	if p.isName("not") {
		ps := posOf(p.next())
		x, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		return &unaryExpr{ps, "not", x}, nil
	}
	return p.parseCompare()
}

func (p *parser) parseCompare() (expr, error) {
	ps := posOf(p.cur())
	x, err := p.parseMath1()
	if err != nil {
		return nil, err
	}
	var ops []cmpOp
	for {
		t := p.cur()
		op := ""
		switch {
		case t.kind == tOp && (t.val == "==" || t.val == "!=" || t.val == "<" || t.val == "<=" || t.val == ">" || t.val == ">="):
			op = map[string]string{"==": "eq", "!=": "ne", "<": "lt", "<=": "lteq", ">": "gt", ">=": "gteq"}[t.val]
			p.next()
		case t.kind == tName && t.val == "in":
			op = "in"
			p.next()
		case t.kind == tName && t.val == "not" && p.peek().kind == tName && p.peek().val == "in":
			op = "notin"
			p.next()
			p.next()
		}
		if op == "" {
			break
		}
		r, err := p.parseMath1()
		if err != nil {
			return nil, err
		}
		ops = append(ops, cmpOp{op, r})
	}
	if len(ops) == 0 {
		return x, nil
	}
	return &compareExpr{ps, x, ops}, nil
}

func (p *parser) parseMath1() (expr, error) {
	ps := posOf(p.cur())
	l, err := p.parseConcat()
	if err != nil {
		return nil, err
	}
	for p.isOp("+") || p.isOp("-") {
		op := p.next().val
		r, err := p.parseConcat()
		if err != nil {
			return nil, err
		}
		l = &binExpr{ps, op, l, r}
	}
	return l, nil
}

func (p *parser) parseConcat() (expr, error) {
	ps := posOf(p.cur())
	x, err := p.parseMath2()
	if err != nil {
		return nil, err
	}
	if !p.isOp("~") {
		return x, nil // the usual case: no slice
	}
	items := []expr{x}
	for p.isOp("~") {
		p.next()
		r, err := p.parseMath2()
		if err != nil {
			return nil, err
		}
		items = append(items, r)
	}
	return &concatExpr{ps, items}, nil
}

func (p *parser) parseMath2() (expr, error) {
	ps := posOf(p.cur())
	l, err := p.parsePow()
	if err != nil {
		return nil, err
	}
	for p.isOp("*") || p.isOp("/") || p.isOp("//") || p.isOp("%") {
		op := p.next().val
		r, err := p.parsePow()
		if err != nil {
			return nil, err
		}
		l = &binExpr{ps, op, l, r}
	}
	return l, nil
}

func (p *parser) parsePow() (expr, error) {
	ps := posOf(p.cur())
	l, err := p.parseUnary(true)
	if err != nil {
		return nil, err
	}
	for p.isOp("**") {
		p.next()
		r, err := p.parseUnary(true)
		if err != nil {
			return nil, err
		}
		l = &binExpr{ps, "**", l, r}
	}
	return l, nil
}

func (p *parser) parseUnary(withFilter bool) (expr, error) {
	t := p.cur()
	ps := posOf(t)
	var x expr
	var err error
	switch {
	case t.kind == tOp && t.val == "-":
		p.next()
		x, err = p.parseUnary(false)
		if err != nil {
			return nil, err
		}
		x = &unaryExpr{ps, "neg", x}
	case t.kind == tOp && t.val == "+":
		p.next()
		x, err = p.parseUnary(false)
		if err != nil {
			return nil, err
		}
		x = &unaryExpr{ps, "pos", x}
	default:
		x, err = p.parsePrimary()
		if err != nil {
			return nil, err
		}
	}
	x, err = p.parsePostfix(x)
	if err != nil {
		return nil, err
	}
	if withFilter {
		return p.parseFilterExpr(x)
	}
	return x, nil
}

func (p *parser) parsePrimary() (expr, error) {
	t := p.cur()
	ps := posOf(t)
	switch t.kind {
	case tName:
		p.next()
		switch t.val {
		case "true", "True":
			return &constExpr{ps, true}, nil
		case "false", "False":
			return &constExpr{ps, false}, nil
		case "none", "None":
			return &constExpr{ps, nil}, nil
		}
		return &nameExpr{ps, t.val}, nil
	case tString:
		p.next()
		s := t.val
		for p.cur().kind == tString {
			s += p.next().val
		}
		return &constExpr{ps, s}, nil
	case tInt:
		p.next()
		return &constExpr{ps, parseIntLit(t.val)}, nil
	case tFloat:
		p.next()
		f, _ := strconv.ParseFloat(t.val, 64)
		return &constExpr{ps, f}, nil
	case tOp:
		switch t.val {
		case "(":
			p.next()
			x, err := p.parseTuple(false, true, nil, true)
			if err != nil {
				return nil, err
			}
			if _, err := p.expectOp(")"); err != nil {
				return nil, err
			}
			return x, nil
		case "[":
			return p.parseList()
		case "{":
			return p.parseDict()
		}
	}
	if t.kind == tEOF || t.kind == tBlockEnd || t.kind == tVarEnd {
		return nil, p.failAt(t, "unexpected %s", t.describe())
	}
	return nil, p.failAt(t, "unexpected %s", t.describe())
}

func parseIntLit(s string) any {
	b := new(big.Int)
	base := 10
	ls := strings.ToLower(s)
	switch {
	case strings.HasPrefix(ls, "0x"):
		base, s = 16, s[2:]
	case strings.HasPrefix(ls, "0o"):
		base, s = 8, s[2:]
	case strings.HasPrefix(ls, "0b"):
		base, s = 2, s[2:]
	}
	b.SetString(s, base)
	return normInt(b)
}

// parseTuple parses comma-separated expressions; a single expression
// without a comma is returned as is.
func (p *parser) parseTuple(simplified, withCond bool, extraEnd []string, explicitParens bool) (expr, error) {
	ps := posOf(p.cur())
	parse := func() (expr, error) {
		if simplified {
			return p.parsePrimary()
		}
		return p.parseExpression(withCond)
	}
	var items []expr
	isTuple := false
	if !p.tupleEnd(extraEnd) {
		// One expression without a comma is the usual case: no slice.
		x, err := parse()
		if err != nil {
			return nil, err
		}
		if !p.isOp(",") {
			return x, nil
		}
		items, isTuple = []expr{x}, true
		for p.isOp(",") {
			p.next()
			if p.tupleEnd(extraEnd) {
				break
			}
			x, err := parse()
			if err != nil {
				return nil, err
			}
			items = append(items, x)
		}
	}
	if !isTuple {
		if len(items) > 0 {
			return items[0], nil
		}
		if !explicitParens {
			return nil, p.failAt(p.cur(), "Expected an expression, got %s", p.cur().describe())
		}
	}
	return &tupleExpr{ps, items}, nil
}

func (p *parser) tupleEnd(extraEnd []string) bool {
	t := p.cur()
	switch t.kind {
	case tVarEnd, tBlockEnd, tEOF:
		return true
	case tOp:
		return t.val == ")"
	case tName:
		for _, e := range extraEnd {
			if t.val == e {
				return true
			}
		}
	}
	return false
}

func (p *parser) parseList() (expr, error) {
	ps := posOf(p.next())
	var items []expr
	for !p.isOp("]") {
		if len(items) > 0 {
			if _, err := p.expectOp(","); err != nil {
				return nil, err
			}
			if p.isOp("]") {
				break
			}
		}
		x, err := p.parseExpression(true)
		if err != nil {
			return nil, err
		}
		items = append(items, x)
	}
	p.next()
	return &listExpr{ps, items}, nil
}

func (p *parser) parseDict() (expr, error) {
	ps := posOf(p.next())
	d := &dictExpr{pos: ps}
	for !p.isOp("}") {
		if len(d.keys) > 0 {
			if _, err := p.expectOp(","); err != nil {
				return nil, err
			}
			if p.isOp("}") {
				break
			}
		}
		k, err := p.parseExpression(true)
		if err != nil {
			return nil, err
		}
		if _, err := p.expectOp(":"); err != nil {
			return nil, err
		}
		v, err := p.parseExpression(true)
		if err != nil {
			return nil, err
		}
		d.keys = append(d.keys, k)
		d.vals = append(d.vals, v)
	}
	p.next()
	return d, nil
}

func (p *parser) parsePostfix(x expr) (expr, error) {
	for {
		t := p.cur()
		if t.kind != tOp {
			return x, nil
		}
		var err error
		switch t.val {
		case ".", "[":
			x, err = p.parseSubscript(x)
		case "(":
			x, err = p.parseCall(x)
		default:
			return x, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func (p *parser) parseFilterExpr(x expr) (expr, error) {
	for {
		t := p.cur()
		var err error
		switch {
		case t.kind == tOp && t.val == "|":
			x, err = p.parseFilter(x, false)
		case t.kind == tName && t.val == "is":
			x, err = p.parseTest(x)
		case t.kind == tOp && t.val == "(":
			x, err = p.parseCall(x)
		default:
			return x, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func (p *parser) parseSubscript(x expr) (expr, error) {
	t := p.next()
	ps := x.at()
	if t.val == "." {
		a := p.next()
		switch a.kind {
		case tName:
			return &getattrExpr{ps, x, a.val}, nil
		case tInt:
			return &getitemExpr{ps, x, &constExpr{posOf(a), parseIntLit(a.val)}}, nil
		}
		return nil, p.failAt(a, "expected name or number")
	}
	var args []expr
	for !p.isOp("]") {
		if len(args) > 0 {
			if _, err := p.expectOp(","); err != nil {
				return nil, err
			}
			if p.isOp("]") {
				break
			}
		}
		a, err := p.parseSubscribed()
		if err != nil {
			return nil, err
		}
		args = append(args, a)
	}
	if _, err := p.expectOp("]"); err != nil {
		return nil, err
	}
	if len(args) == 1 {
		return &getitemExpr{ps, x, args[0]}, nil
	}
	return &getitemExpr{ps, x, &tupleExpr{ps, args}}, nil
}

func (p *parser) parseSubscribed() (expr, error) {
	ps := posOf(p.cur())
	var parts [3]expr
	if p.isOp(":") {
		p.next()
	} else {
		x, err := p.parseExpression(true)
		if err != nil {
			return nil, err
		}
		if !p.isOp(":") {
			return x, nil
		}
		p.next()
		parts[0] = x
	}
	if !p.isOp("]") && !p.isOp(",") && !p.isOp(":") {
		x, err := p.parseExpression(true)
		if err != nil {
			return nil, err
		}
		parts[1] = x
	}
	if p.isOp(":") {
		p.next()
		if !p.isOp("]") && !p.isOp(",") {
			x, err := p.parseExpression(true)
			if err != nil {
				return nil, err
			}
			parts[2] = x
		}
	}
	return &sliceExpr{ps, parts[0], parts[1], parts[2]}, nil
}

func (p *parser) parseCallArgs() (callArgs, error) {
	var ca callArgs
	t, err := p.expectOp("(")
	if err != nil {
		return ca, err
	}
	first := true
	for !p.isOp(")") {
		if !first {
			if _, err := p.expectOp(","); err != nil {
				return ca, err
			}
			if p.isOp(")") {
				break
			}
		}
		first = false
		switch {
		case p.isOp("*"):
			p.next()
			if ca.dynArgs != nil || ca.dynKwargs != nil {
				return ca, p.failAt(t, "Invalid argument syntax")
			}
			ca.dynArgs, err = p.parseExpression(true)
		case p.isOp("**"):
			p.next()
			if ca.dynKwargs != nil {
				return ca, p.failAt(t, "Invalid argument syntax")
			}
			ca.dynKwargs, err = p.parseExpression(true)
		case p.cur().kind == tName && p.peek().kind == tOp && p.peek().val == "=":
			if ca.dynKwargs != nil {
				return ca, p.failAt(t, "Invalid argument syntax")
			}
			k := p.next().val
			p.next()
			var v expr
			v, err = p.parseExpression(true)
			ca.kwargs = append(ca.kwargs, kwArg{k, v})
		default:
			if ca.dynArgs != nil || ca.dynKwargs != nil || len(ca.kwargs) > 0 {
				return ca, p.failAt(t, "Invalid argument syntax")
			}
			var v expr
			v, err = p.parseExpression(true)
			ca.args = append(ca.args, v)
		}
		if err != nil {
			return ca, err
		}
	}
	p.next()
	return ca, nil
}

func (p *parser) parseCall(x expr) (expr, error) {
	ps := x.at()
	ca, err := p.parseCallArgs()
	if err != nil {
		return nil, err
	}
	return &callExpr{ps, x, ca}, nil
}

func (p *parser) parseFilter(x expr, startInline bool) (expr, error) {
	for p.isOp("|") || startInline {
		if !startInline {
			p.next()
		}
		startInline = false
		t, err := p.expectKind(tName)
		if err != nil {
			return nil, err
		}
		name := t.val
		for p.isOp(".") {
			p.next()
			n, err := p.expectKind(tName)
			if err != nil {
				return nil, err
			}
			name += "." + n.val
		}
		var ca callArgs
		if p.isOp("(") {
			ca, err = p.parseCallArgs()
			if err != nil {
				return nil, err
			}
		}
		fe := &filterExpr{pos: posOf(t), node: x, name: name, callArgs: ca}
		if p.env != nil {
			if _, ok := p.env.filter(name); !ok {
				fe.unknown = true
				p.unknownName(fe.pos, "filter", name)
			}
		}
		x = fe
	}
	return x, nil
}

func (p *parser) parseTest(x expr) (expr, error) {
	p.next()
	negate := false
	if p.isName("not") {
		p.next()
		negate = true
	}
	t, err := p.expectKind(tName)
	if err != nil {
		return nil, err
	}
	name := t.val
	for p.isOp(".") {
		p.next()
		n, err := p.expectKind(tName)
		if err != nil {
			return nil, err
		}
		name += "." + n.val
	}
	var ca callArgs
	c := p.cur()
	if p.isOp("(") {
		ca, err = p.parseCallArgs()
		if err != nil {
			return nil, err
		}
	} else if (c.kind == tName || c.kind == tString || c.kind == tInt || c.kind == tFloat || (c.kind == tOp && (c.val == "(" || c.val == "[" || c.val == "{"))) &&
		!(c.kind == tName && (c.val == "else" || c.val == "or" || c.val == "and")) {
		if c.kind == tName && c.val == "is" {
			return nil, p.failAt(c, "You cannot chain multiple tests with is")
		}
		a, err := p.parsePrimary()
		if err != nil {
			return nil, err
		}
		a, err = p.parsePostfix(a)
		if err != nil {
			return nil, err
		}
		ca.args = []expr{a}
	}
	te := &testExpr{pos: posOf(t), node: x, name: name, negate: negate, callArgs: ca}
	if p.env != nil {
		if _, ok := p.env.test(name); !ok {
			te.unknown = true
			p.unknownName(te.pos, "test", name)
		}
	}
	return te, nil
}

// ---- static analysis ----

// definesMacro reports whether body (at any depth) defines a macro or a
// call block, whose closure would keep the enclosing scope alive.
func definesMacro(body []stmt) bool {
	for _, s := range body {
		switch n := s.(type) {
		case *macroStmt, *callBlockStmt, *tagStmt:
			return true
		case *ifStmt:
			if definesMacro(n.body) || definesMacro(n.els) {
				return true
			}
		case *forStmt:
			if definesMacro(n.body) || definesMacro(n.els) {
				return true
			}
		case *withStmt:
			if definesMacro(n.body) {
				return true
			}
		case *setBlockStmt:
			if definesMacro(n.body) {
				return true
			}
		case *filterBlockStmt:
			if definesMacro(n.body) {
				return true
			}
		case *blockStmt:
			if definesMacro(n.body) {
				return true
			}
		case *autoescapeStmt:
			if definesMacro(n.body) {
				return true
			}
		}
	}
	return false
}

// analyzeMacro records whether a macro body refers to varargs, kwargs or
// caller, which decides the signature Jinja2 gives it.
func analyzeMacro(m *macroDef) {
	defer func() {
		for _, a := range m.args {
			switch a {
			case "varargs":
				m.usesVarargs = false
			case "kwargs":
				m.usesKwargs = false
			case "caller":
				m.usesCaller = false
			}
		}
	}()
	walkNames(m.body, func(n string) {
		switch n {
		case "varargs":
			m.usesVarargs = true
		case "kwargs":
			m.usesKwargs = true
		case "caller":
			m.usesCaller = true
		}
	})
	for _, d := range m.defaults {
		walkExprNames(d, func(n string) {
			switch n {
			case "varargs":
				m.usesVarargs = true
			case "kwargs":
				m.usesKwargs = true
			case "caller":
				m.usesCaller = true
			}
		})
	}
}

func walkNames(body []stmt, f func(string)) {
	for _, s := range body {
		walkStmtNames(s, f)
	}
}

func walkStmtNames(s stmt, f func(string)) {
	w := func(x expr) {
		if x != nil {
			walkExprNames(x, f)
		}
	}
	switch n := s.(type) {
	case *printStmt:
		w(n.x)
	case *ifStmt:
		w(n.test)
		walkNames(n.body, f)
		walkNames(n.els, f)
	case *forStmt:
		w(n.iter)
		w(n.cond)
		walkNames(n.body, f)
		walkNames(n.els, f)
	case *setStmt:
		w(n.x)
	case *setBlockStmt:
		w(n.filter)
		walkNames(n.body, f)
	case *macroStmt:
		for _, d := range n.m.defaults {
			w(d)
		}
		walkNames(n.m.body, f)
	case *callBlockStmt:
		w(n.call)
		for _, d := range n.caller.defaults {
			w(d)
		}
		walkNames(n.caller.body, f)
	case *filterBlockStmt:
		w(n.filter)
		walkNames(n.body, f)
	case *withStmt:
		for _, v := range n.values {
			w(v)
		}
		walkNames(n.body, f)
	case *doStmt:
		w(n.x)
	case *includeStmt:
		w(n.template)
	case *importStmt:
		w(n.template)
	case *fromImportStmt:
		w(n.template)
	case *autoescapeStmt:
		walkNames(n.body, f)
	case *tagStmt:
		walkNames(n.body, f)
	}
}

func walkCallArgs(ca *callArgs, f func(string)) {
	for _, a := range ca.args {
		walkExprNames(a, f)
	}
	for _, k := range ca.kwargs {
		walkExprNames(k.val, f)
	}
	if ca.dynArgs != nil {
		walkExprNames(ca.dynArgs, f)
	}
	if ca.dynKwargs != nil {
		walkExprNames(ca.dynKwargs, f)
	}
}

func walkExprNames(x expr, f func(string)) {
	switch e := x.(type) {
	case *nameExpr:
		f(e.name)
	case *tupleExpr:
		for _, it := range e.items {
			walkExprNames(it, f)
		}
	case *listExpr:
		for _, it := range e.items {
			walkExprNames(it, f)
		}
	case *dictExpr:
		for i := range e.keys {
			walkExprNames(e.keys[i], f)
			walkExprNames(e.vals[i], f)
		}
	case *getattrExpr:
		walkExprNames(e.obj, f)
	case *getitemExpr:
		walkExprNames(e.obj, f)
		walkExprNames(e.key, f)
	case *sliceExpr:
		for _, it := range []expr{e.start, e.stop, e.step} {
			if it != nil {
				walkExprNames(it, f)
			}
		}
	case *callExpr:
		walkExprNames(e.fn, f)
		walkCallArgs(&e.callArgs, f)
	case *filterExpr:
		if e.node != nil {
			walkExprNames(e.node, f)
		}
		walkCallArgs(&e.callArgs, f)
	case *testExpr:
		walkExprNames(e.node, f)
		walkCallArgs(&e.callArgs, f)
	case *binExpr:
		walkExprNames(e.l, f)
		walkExprNames(e.r, f)
	case *unaryExpr:
		walkExprNames(e.x, f)
	case *compareExpr:
		walkExprNames(e.first, f)
		for _, o := range e.ops {
			walkExprNames(o.x, f)
		}
	case *condExpr:
		walkExprNames(e.test, f)
		walkExprNames(e.then, f)
		if e.els != nil {
			walkExprNames(e.els, f)
		}
	case *concatExpr:
		for _, it := range e.items {
			walkExprNames(it, f)
		}
	}
}
