package jinja_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/dataopskit/dataops/transform/jinja"
)

// Compile a template once, then render it with Go values and a Go function
// that takes keyword arguments.
func Example() {
	ref := jinja.Func(func(args []any, kwargs map[string]any) (any, error) {
		schema := "analytics"
		if s, ok := kwargs["schema"].(string); ok {
			schema = s
		}
		return schema + "." + args[0].(string), nil
	})
	env := jinja.New(jinja.WithGlobals(map[string]any{"ref": ref}))
	tmpl, err := env.Compile("orders.sql", `
{%- set payment_methods = ['card', 'coupon'] -%}
select
    order_id,
    {%- for m in payment_methods %}
    sum(case when method = '{{ m }}' then amount else 0 end) as {{ m }}_amount,
    {%- endfor %}
    sum(amount) as total
from {{ ref('payments', schema=schema) }}
group by 1`)
	if err != nil {
		fmt.Println(err)
		return
	}
	sql, err := tmpl.Render(context.Background(), map[string]any{"schema": "staging"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sql)
	// Output:
	// select
	//     order_id,
	//     sum(case when method = 'card' then amount else 0 end) as card_amount,
	//     sum(case when method = 'coupon' then amount else 0 end) as coupon_amount,
	//     sum(amount) as total
	// from staging.payments
	// group by 1
}

// Macros can be called from Go; what a macro passes to return() comes back
// as a Go value.
func ExampleTemplate_CallMacro() {
	env := jinja.New()
	tmpl, err := env.Compile("macros.sql", `
{%- macro surrogate_key(fields) -%}
  {%- set parts = [] -%}
  {%- for f in fields -%}
    {%- do parts.append("coalesce(cast(" ~ f ~ " as text), '')") -%}
  {%- endfor -%}
  {{ return("md5(" ~ parts|join(" || '-' || ") ~ ")") }}
{%- endmacro %}`)
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := tmpl.CallMacro(context.Background(), "surrogate_key", nil, []any{[]string{"a", "b"}}, nil)
	fmt.Println(v, err)
	// Output:
	// md5(coalesce(cast(a as text), '') || '-' || coalesce(cast(b as text), '')) <nil>
}

// Host block tags: a docs block becomes a macro, as in dbt.
func ExampleWithTag() {
	env := jinja.New(jinja.WithTag(jinja.Tag{
		Name:  "docs",
		Macro: func(h jinja.TagHeader) (string, error) { return "doc_" + h.Name, nil },
	}))
	tmpl, _ := env.Compile("docs.md", `{% docs orders %}One row per order.{% enddocs %}{{ doc_orders()|upper }}`)
	out, err := tmpl.Render(context.Background(), nil)
	fmt.Println(strings.TrimSpace(out), err)
	// Output:
	// ONE ROW PER ORDER. <nil>
}
