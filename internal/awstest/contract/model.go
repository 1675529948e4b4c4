package contract

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"github.com/pushvault/pushvault/internal/npmfixture"
)

// Service names the three served services.
type Service string

// The served services; their values are the SigV4 signing names.
const (
	IAM            Service = "iam"
	STS            Service = "sts"
	SecretsManager Service = "secretsmanager"
)

var modelFiles = map[Service]string{
	IAM:            npmfixture.AWSIAMModelFile,
	STS:            npmfixture.AWSSTSModelFile,
	SecretsManager: npmfixture.AWSSecretsManagerModelFile,
}

// Metadata is a model's metadata block.
type Metadata struct {
	APIVersion   string `json:"apiVersion"`
	Protocol     string `json:"protocol"` // "query" or "json"
	JSONVersion  string `json:"jsonVersion"`
	TargetPrefix string `json:"targetPrefix"`
	XMLNamespace string `json:"xmlNamespace"`
	ServiceID    string `json:"serviceId"`
}

// Shape is a model shape; an empty shape ({} in the model) is a string.
type Shape struct {
	Type          string            `json:"type"`
	Ref           string            `json:"shape"`
	Members       map[string]*Shape `json:"members"`
	Required      []string          `json:"required"`
	Member        *Shape            `json:"member"`
	Key           *Shape            `json:"key"`
	Value         *Shape            `json:"value"`
	ResultWrapper string            `json:"resultWrapper"`
	Sensitive     bool              `json:"sensitive"`
	Flattened     bool              `json:"flattened"`
	LocationName  string            `json:"locationName"`
	Idempotency   bool              `json:"idempotencyToken"`
}

// Operation is one operation of a model.
type Operation struct {
	Name   string
	Input  *Shape `json:"input"`
	Output *Shape `json:"output"` // nil: the operation answers no members
}

// Model is one service's model. It is read-only once loaded and safe for
// concurrent use.
type Model struct {
	Service    Service
	Metadata   Metadata              `json:"metadata"`
	Operations map[string]*Operation `json:"operations"`
	Shapes     map[string]*Shape     `json:"shapes"`
}

var (
	loadMu sync.Mutex
	models = map[Service]*Model{}
)

// Load returns the model of svc, read from the pinned npm package (fetched
// once with npm and cached; see internal/npmfixture).
func Load(svc Service) (*Model, error) {
	loadMu.Lock()
	defer loadMu.Unlock()
	if m := models[svc]; m != nil {
		return m, nil
	}
	file, ok := modelFiles[svc]
	if !ok {
		return nil, fmt.Errorf("contract: no model for service %q", svc)
	}
	data, err := npmfixture.AWSModels.File(file)
	if err != nil {
		return nil, fmt.Errorf("contract: %s model: %w", svc, err)
	}
	m, err := parseModel(svc, data)
	if err != nil {
		return nil, err
	}
	models[svc] = m
	return m, nil
}

func parseModel(svc Service, data []byte) (*Model, error) {
	m := &Model{Service: svc}
	if err := json.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("contract: parse %s model: %w", svc, err)
	}
	for name, op := range m.Operations {
		op.Name = name
		if op.Input == nil {
			op.Input = &Shape{Type: "structure"}
		}
	}
	var bad []string
	var check func(s *Shape, where string, depth int)
	check = func(s *Shape, where string, depth int) {
		if s == nil || depth > 3 {
			return
		}
		if s.Ref != "" && m.Shapes[s.Ref] == nil {
			bad = append(bad, where+" -> "+s.Ref)
		}
		for n, c := range s.Members {
			check(c, where+"."+n, depth+1)
		}
		check(s.Member, where+"[]", depth+1)
		check(s.Key, where+"{key}", depth+1)
		check(s.Value, where+"{value}", depth+1)
	}
	for name, op := range m.Operations {
		check(op.Input, name+" input", 0)
		check(op.Output, name+" output", 0)
	}
	for name, s := range m.Shapes {
		check(s, name, 0)
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return nil, fmt.Errorf("contract: %s model refers to missing shapes: %v", svc, bad)
	}
	return m, nil
}

// Op returns the named operation, or nil.
func (m *Model) Op(name string) *Operation { return m.Operations[name] }

// resolve follows a shape reference.
func (m *Model) resolve(s *Shape) *Shape {
	for s != nil && s.Ref != "" {
		s = m.Shapes[s.Ref]
	}
	return s
}

// kind is the shape's type, "string" for an empty shape.
func kind(s *Shape) string {
	if s.Type == "" {
		return "string"
	}
	return s.Type
}
