package strictyaml_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/pushvault/pushvault/internal/strictyaml"
)

func TestWalkerAgreesOnKinds(t *testing.T) {
	const file = "a:\n  name: shop\n  port: 5432\n  count: 3\n  on: true\n  list: [x, 'y']\n  bad: 7\n  nope: 1\n  a2: x\n  a2: y\n"
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(file), &doc); err != nil {
		t.Fatal(err)
	}
	w := strictyaml.New("s.yml")
	var got struct {
		Name, Port string
		Count      int
		On         bool
		List       []string
	}
	w.Mapping(strictyaml.Root(&doc), "", map[string]func(*yaml.Node, string){
		"a": func(n *yaml.Node, key string) {
			w.Mapping(n, key, map[string]func(*yaml.Node, string){
				"name":  func(n *yaml.Node, key string) { got.Name = w.Str(n, key) },
				"port":  func(n *yaml.Node, key string) { got.Port = w.Text(n, key) },
				"count": func(n *yaml.Node, key string) { got.Count = w.Int(n, key) },
				"on":    func(n *yaml.Node, key string) { got.On = w.Bool(n, key) },
				"list":  func(n *yaml.Node, key string) { got.List = w.Strings(n, key) },
				"bad":   func(n *yaml.Node, key string) { w.Str(n, key) },
				"a2":    func(n *yaml.Node, key string) { w.Str(n, key) },
			})
		},
	})
	want := struct {
		Name, Port string
		Count      int
		On         bool
		List       []string
	}{"shop", "5432", 3, true, []string{"x", "y"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
	err := w.Err()
	if err == nil {
		t.Fatal("no error for a bare number as a string, an unknown key and a key given twice")
	}
	for _, msg := range []string{"s.yml:7: a.bad: must be a string", "s.yml:8: a.nope: unknown key", "s.yml:10: a.a2: appears twice"} {
		if !strings.Contains(err.Error(), msg) {
			t.Errorf("errors lack %q:\n%v", msg, err)
		}
	}
}
