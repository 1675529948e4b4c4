package githubtest

import (
	"fmt"
	"unicode/utf8"
)

// GitHub's limits on the text of pull requests, issues and comments, in
// characters: past them it answers 422 and creates nothing. Check runs
// have their own (maxSummary, maxAnnotations), which the description
// states too.
const (
	maxBody  = 65536 // a pull request's, issue's or comment's body
	maxTitle = 256   // a pull request's or issue's title
)

// tooLong is GitHub's answer to a title or body of resource over its
// limit, nil when both fit; nil pointers are fields not sent. GitHub calls
// a pull request's fields the Issue's (they are one record there).
func tooLong(resource string, title, body *string) error {
	for _, f := range []struct {
		name  string
		value *string
		limit int
	}{{"title", title, maxTitle}, {"body", body, maxBody}} {
		if f.value != nil && utf8.RuneCountInString(*f.value) > f.limit {
			return validationFailed("Validation Failed", map[string]string{"resource": resource, "code": "custom", "field": f.name,
				"message": fmt.Sprintf("%s is too long (maximum is %d characters)", f.name, f.limit)})
		}
	}
	return nil
}
