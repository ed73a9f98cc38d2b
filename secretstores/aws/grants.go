package aws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse/gatehouse/secretstores"
)

// Native grants. Each grant gets its own IAM role (path /gatehouse/grants/)
// trusting only Gatehouse's principal, whose one inline policy allows
// exactly the granted actions on exactly the granted secret's ARN. A
// credential is an STS session of that role carrying the same policy as a
// session policy, living until the grant ends.
//
// Early revocation: STS sessions cannot be recalled, so RevokeGrant first
// attaches a deny-everything policy conditioned on aws:TokenIssueTime
// being before now (AWS's documented way to revoke a role's active
// sessions), then removes the allow policy and deletes the role. Sessions
// of a deleted role hold no permissions, and a role re-created under the
// same name gets a new role ID, which old sessions do not match.
const (
	grantPath       = "/gatehouse/grants/"
	allowPolicyName = "gatehouse-grant"
	denyPolicyName  = "gatehouse-revoked"
	// MinSession is the shortest STS session AWS issues; a grant with
	// less time left is brokered (reveal only).
	MinSession = 15 * time.Minute
	// maxChained is the longest session of a role assumed with role
	// credentials (role chaining), which is how Gatehouse acts when the
	// binding names a role.
	maxChained = time.Hour
	maxSession = 12 * time.Hour
)

// RoleName is the IAM role of a grant.
func RoleName(grantID string) string { return "gatehouse-grant-" + grantID }

// self returns Gatehouse's principal in the account (cached).
func (s *Store) self(ctx context.Context) (*identity, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.who != nil {
		return s.who, nil
	}
	out, err := s.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, s.fail("looking up Gatehouse's principal", err)
	}
	s.who = &identity{account: awssdk.ToString(out.Account), arn: awssdk.ToString(out.Arn)}
	return s.who, nil
}

type policyDoc struct {
	Version   string      `json:"Version"`
	Statement []statement `json:"Statement"`
}

type statement struct {
	Effect    string         `json:"Effect"`
	Principal map[string]any `json:"Principal,omitempty"`
	Action    any            `json:"Action"`
	Resource  any            `json:"Resource,omitempty"`
	Condition map[string]any `json:"Condition,omitempty"`
}

func (p policyDoc) String() string {
	b, _ := json.Marshal(p) // plain strings and maps: cannot fail
	return string(b)
}

// allowPolicy allows exactly the granted actions on exactly the secret.
func allowPolicy(secretARN string, write bool) policyDoc {
	actions := []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
	if write {
		actions = append(actions, "secretsmanager:PutSecretValue")
	}
	return policyDoc{Version: "2012-10-17", Statement: []statement{{Effect: "Allow", Action: actions, Resource: secretARN}}}
}

func (s *Store) checkGrant(g secretstores.GrantSpec) error {
	if !idRE.MatchString(g.GrantID) {
		return fmt.Errorf("%w: grant ID %q is not a plain identifier", secretstores.ErrInvalid, g.GrantID)
	}
	if g.TTL < time.Minute {
		return fmt.Errorf("%w: duration %s is under a minute", secretstores.ErrInvalid, g.TTL)
	}
	return nil
}

// PrepareGrant creates the grant's role and its allow policy on exactly
// the secret. Running it again is harmless. It fails with ErrNotFound when
// the secret does not exist.
func (s *Store) PrepareGrant(ctx context.Context, g secretstores.GrantSpec) error {
	if err := s.checkGrant(g); err != nil {
		return err
	}
	d, err := s.describe(ctx, g.Name)
	if err != nil {
		return err
	}
	who, err := s.self(ctx)
	if err != nil {
		return err
	}
	trust := policyDoc{Version: "2012-10-17", Statement: []statement{{
		Effect: "Allow", Principal: map[string]any{"AWS": who.arn}, Action: "sts:AssumeRole",
	}}}
	_, err = s.iam.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: awssdk.String(RoleName(g.GrantID)), Path: awssdk.String(grantPath),
		AssumeRolePolicyDocument: awssdk.String(trust.String()),
		MaxSessionDuration:       awssdk.Int32(int32(sessionCeiling(s.cfg.RoleARN != "").Seconds())),
		Description:              awssdk.String(fmt.Sprintf("Gatehouse grant %s (%s)", g.GrantID, g.Tenant)),
		Tags: []iamtypes.Tag{
			{Key: awssdk.String("gatehouse-grant"), Value: awssdk.String(g.GrantID)},
			{Key: awssdk.String("gatehouse-tenant"), Value: awssdk.String(g.Tenant)},
			{Key: awssdk.String("gatehouse-subject"), Value: awssdk.String(g.Subject)},
		},
	})
	var exists *iamtypes.EntityAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		return s.fail("creating the grant role", err)
	}
	_, err = s.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName: awssdk.String(RoleName(g.GrantID)), PolicyName: awssdk.String(allowPolicyName),
		PolicyDocument: awssdk.String(allowPolicy(awssdk.ToString(d.ARN), g.Write).String()),
	})
	if err != nil {
		return s.fail("writing the grant policy", err)
	}
	return nil
}

// sessionCeiling is the longest session AWS will issue for a grant role.
func sessionCeiling(chained bool) time.Duration {
	if chained {
		return maxChained
	}
	return maxSession
}

// MintCredential assumes the grant's role for the time left until the grant
// ends (capped by AWS: 1 hour when Gatehouse itself acts through a role, 12
// hours otherwise; take a new one when it runs out), with the allow policy
// again as the session policy. Less than MinSession left gives ErrBrokered.
func (s *Store) MintCredential(ctx context.Context, g secretstores.GrantSpec, until time.Time) (secretstores.Credential, error) {
	if err := s.checkGrant(g); err != nil {
		return secretstores.Credential{}, err
	}
	left := time.Until(until).Truncate(time.Second)
	if left < MinSession {
		return secretstores.Credential{}, fmt.Errorf("%w: AWS sessions last at least 15 minutes and this grant has %s left", secretstores.ErrBrokered, left.Round(time.Minute))
	}
	left = min(left, sessionCeiling(s.cfg.RoleARN != ""))
	d, err := s.describe(ctx, g.Name)
	if err != nil {
		return secretstores.Credential{}, err
	}
	who, err := s.self(ctx)
	if err != nil {
		return secretstores.Credential{}, err
	}
	arn := fmt.Sprintf("arn:%s:iam::%s:role%s%s", partition(who.arn), who.account, grantPath, RoleName(g.GrantID))
	out, err := s.sts.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: awssdk.String(arn), RoleSessionName: awssdk.String(sessionName(g.GrantID)),
		DurationSeconds: awssdk.Int32(int32(left.Seconds())),
		Policy:          awssdk.String(allowPolicy(awssdk.ToString(d.ARN), g.Write).String()),
	})
	if err != nil {
		return secretstores.Credential{}, s.fail("assuming the grant role", err)
	}
	c := out.Credentials
	return secretstores.Credential{
		Ref: arn,
		Fields: []secretstores.Field{
			{Name: "AWS_ACCESS_KEY_ID", Value: awssdk.ToString(c.AccessKeyId)},
			{Name: "AWS_SECRET_ACCESS_KEY", Value: awssdk.ToString(c.SecretAccessKey)},
			{Name: "AWS_SESSION_TOKEN", Value: awssdk.ToString(c.SessionToken)},
			{Name: "AWS_REGION", Value: s.cfg.Region},
		},
		ExpiresAt: awssdk.ToTime(c.Expiration),
		Note: "These STS session credentials read only " + awssdk.ToString(d.ARN) + ". Ending the grant early denies every session " +
			"of the grant's role issued before that moment (aws:TokenIssueTime) and deletes the role.",
	}, nil
}

// sessionName is the STS session name: "gatehouse-" and the grant ID,
// within AWS's 64 characters. It shows in CloudTrail.
func sessionName(grantID string) string {
	n := "gatehouse-" + grantID
	return n[:min(len(n), 64)]
}

func partition(arn string) string {
	if p := strings.Split(arn, ":"); len(p) > 1 && p[1] != "" {
		return p[1]
	}
	return "aws"
}

// RevokeGrant denies every session of the grant's role issued before now,
// then removes the allow policy and deletes the role. Running it again (or
// for a grant never prepared) is safe.
func (s *Store) RevokeGrant(ctx context.Context, grantID string) error {
	role := awssdk.String(RoleName(grantID))
	deny := policyDoc{Version: "2012-10-17", Statement: []statement{{
		Effect: "Deny", Action: "*", Resource: "*",
		Condition: map[string]any{"DateLessThan": map[string]string{"aws:TokenIssueTime": time.Now().UTC().Add(time.Second).Format(time.RFC3339)}},
	}}}
	var gone *iamtypes.NoSuchEntityException
	_, err := s.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: role, PolicyName: awssdk.String(denyPolicyName), PolicyDocument: awssdk.String(deny.String())})
	if errors.As(err, &gone) {
		return nil // no role: nothing was ever issued, or it is revoked already
	}
	if err != nil {
		return s.fail("denying the grant's sessions", err)
	}
	for _, p := range []string{allowPolicyName, denyPolicyName} {
		if _, err := s.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: role, PolicyName: awssdk.String(p)}); err != nil && !errors.As(err, &gone) {
			return s.fail("removing the grant's policy "+p, err)
		}
	}
	if _, err := s.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: role}); err != nil && !errors.As(err, &gone) {
		return s.fail("deleting the grant role", err)
	}
	return nil
}

// VerifyGrantDead returns nil when the grant's role no longer exists (so
// no session of it can act), and otherwise says that it still lives.
func (s *Store) VerifyGrantDead(ctx context.Context, grantID string) error {
	_, err := s.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: awssdk.String(RoleName(grantID))})
	var gone *iamtypes.NoSuchEntityException
	switch {
	case errors.As(err, &gone):
		return nil
	case err != nil:
		return s.fail("looking up the grant role", err)
	}
	return fmt.Errorf("aws grant %s: its role %s still exists", grantID, RoleName(grantID))
}
