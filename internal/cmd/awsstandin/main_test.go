package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestRunServesUntilCancelled starts the process's run with a user and a
// role, signs GetCallerIdentity with the key from the keys file, and
// checks the printed line carries no secret key.
func TestRunServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	keys := t.TempDir() + "/keys.json"
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-user", "app", "-role", "rotator", "-keys", keys}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no info line: %v", err)
	}
	var info Info
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(keys)
	if err != nil {
		t.Fatal(err)
	}
	var ks []Key
	if err := json.Unmarshal(data, &ks); err != nil || len(ks) != 1 {
		t.Fatalf("keys file: %s, %v", data, err)
	}
	if strings.Contains(line, ks[0].SecretAccessKey) {
		t.Error("the info line shows the secret key")
	}
	cfg := aws.Config{Region: info.Region, Credentials: credentials.NewStaticCredentialsProvider(ks[0].AccessKeyID, ks[0].SecretAccessKey, ""), RetryMaxAttempts: 1}
	c, cancelCall := context.WithTimeout(ctx, 20*time.Second)
	defer cancelCall()
	out, err := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(info.URL) }).GetCallerIdentity(c, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(out.Arn) != info.Users[0].ARN {
		t.Errorf("GetCallerIdentity: %v, %v; want %s", out, err, info.Users[0].ARN)
	}
	if len(info.Roles) != 1 || !strings.HasSuffix(info.Roles[0], ":role/rotator") {
		t.Errorf("roles %v", info.Roles)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}
