package devstack

import (
	"context"
	_ "embed"
	"fmt"
	"net/http"
	"os"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// MotoAccount is the account moto_server puts everything in.
const MotoAccount = "123456789012"

// AWSKeys is an IAM access key pair.
type AWSKeys struct {
	AccessKeyID, SecretAccessKey string
}

// EnforceIAM creates an administrator IAM user with an access key, then
// switches moto to enforcing IAM on every later request (as AWS does:
// unknown keys are refused, policies are evaluated), and returns the
// administrator's keys. Call it once, right after StartMoto.
func (m *Moto) EnforceIAM(ctx context.Context) (AWSKeys, error) {
	cfg := awssdk.Config{
		Region: "us-east-1", BaseEndpoint: awssdk.String(m.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("bootstrap", "bootstrap", ""),
	}
	c := iam.NewFromConfig(cfg)
	name := awssdk.String("gatehouse-admin")
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: name}); err != nil {
		return AWSKeys{}, fmt.Errorf("moto: creating the admin user: %w", err)
	}
	admin := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: name, PolicyName: awssdk.String("admin"), PolicyDocument: awssdk.String(admin)}); err != nil {
		return AWSKeys{}, fmt.Errorf("moto: granting the admin user: %w", err)
	}
	k, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: name})
	if err != nil {
		return AWSKeys{}, fmt.Errorf("moto: creating the admin key: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.Endpoint+"/moto-api/reset-auth", strings.NewReader("0"))
	if err != nil {
		return AWSKeys{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return AWSKeys{}, fmt.Errorf("moto: enabling IAM enforcement: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return AWSKeys{}, fmt.Errorf("moto: enabling IAM enforcement: %s", resp.Status)
	}
	return AWSKeys{AccessKeyID: awssdk.ToString(k.AccessKey.AccessKeyId), SecretAccessKey: awssdk.ToString(k.AccessKey.SecretAccessKey)}, nil
}

// motoLauncher runs moto_server with Secrets Manager resources resolved for
// IAM enforcement (see the file's docstring).
//
//go:embed moto_server.py
var motoLauncher []byte

// writeTemp writes content to a new temporary file and returns its path.
func writeTemp(pattern string, content []byte) (string, error) {
	f, err := os.CreateTemp("", pattern)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := f.Write(content); err != nil {
		return "", err
	}
	return f.Name(), nil
}
