package rewrite

import "strings"

// placeholderOpeners are the openings of the placeholders other templating
// syntaxes write inside values: ${…} (Spring, shell, docker-compose,
// Terraform, bank-vaults), {{…}} (Helm, Go templates, Jinja, Mustache),
// %{…} (Terraform directives, Puppet) and #{…} (Ruby, Spring SpEL).
var placeholderOpeners = []string{"${", "{{", "%{", "#{"}

// enclosingPlaceholder reports whether an occurrence of literal in value
// lies inside one of those placeholders, and which ("${…}"). Braces nest
// ({…} inside a placeholder is part of it); "$$" is an escaped dollar.
func enclosingPlaceholder(value, literal string) (string, bool) {
	if literal == "" {
		return "", false
	}
	for from := 0; ; {
		i := strings.Index(value[from:], literal)
		if i < 0 {
			return "", false
		}
		at := from + i
		if open := openAt(value[:at]); open != "" {
			return open + "…}", true
		}
		from = at + len(literal)
	}
}

// openAt returns the opener of the innermost placeholder still open at the
// end of prefix, or "".
func openAt(prefix string) string {
	var stack []string // "" for a plain brace
	for i := 0; i < len(prefix); i++ {
		if strings.HasPrefix(prefix[i:], "$$") {
			i++
			continue
		}
		if o := openerAt(prefix[i:]); o != "" {
			stack = append(stack, o)
			if o == "{{" {
				stack = append(stack, "") // "}}" closes it, one brace at a time
			}
			i += len(o) - 1
			continue
		}
		switch prefix[i] {
		case '{':
			stack = append(stack, "")
		case '}':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	for k := len(stack) - 1; k >= 0; k-- {
		if stack[k] != "" {
			return stack[k]
		}
	}
	return ""
}

func openerAt(s string) string {
	for _, o := range placeholderOpeners {
		if strings.HasPrefix(s, o) {
			return o
		}
	}
	return ""
}
