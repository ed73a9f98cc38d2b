# The Vault policy of Gatehouse's own identity (GATEHOUSE_VAULT_TOKEN).
# Least privilege: Gatehouse manages tenant mounts and per-grant policies and
# mints grant tokens, but cannot read tenants' secret values itself — a
# reveal reads through a throwaway token holding only the grant's policy.

# Verify its own token at start-up, and that it holds this policy.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "sys/capabilities-self" {
  capabilities = ["update"]
}

# Tenant KV v2 mounts: list mounts, create a tenant's at onboarding.
path "sys/mounts" {
  capabilities = ["read"]
}
path "sys/mounts/tenant-*" {
  capabilities = ["create", "update", "read"]
}

# Catalog management browses key names only (metadata listing, no values).
# Vault globs only at the end of a path, so the mount segment is "+" (any
# mount): names may be listed anywhere, values nowhere.
path "+/metadata" {
  capabilities = ["list"]
}
path "+/metadata/*" {
  capabilities = ["list"]
}

# Gatehouse's own secrets: the IdP client secrets.
path "gatehouse/data/idp/*" {
  capabilities = ["create", "update", "read"]
}

# Credentials of tenants' cloud store bindings (AWS keys, Azure client
# secrets, GCP service-account keys), referenced from PostgreSQL by path.
path "gatehouse/data/stores/*" {
  capabilities = ["create", "update", "read"]
}

# Passwords of organizations' own mail relays, one version per password
# set; a password no longer referenced is deleted with all its versions.
path "gatehouse/data/channels/*" {
  capabilities = ["create", "update", "read"]
}
path "gatehouse/metadata/channels/*" {
  capabilities = ["list", "delete"]
}

# The audit trail's checkpoints: add versions and read them; no delete,
# destroy or metadata capability, so written checkpoints stay.
path "gatehouse/data/audit/checkpoints" {
  capabilities = ["create", "update", "read"]
}

# Per-grant ACL policies, and nothing else in the policy store; the
# policies' names (not their bodies) may be listed, so a revocation checks a
# batch of deleted grant policies gone with one call.
path "sys/policies/acl" {
  capabilities = ["list"]
}
path "sys/policies/acl/gatehouse-grant-*" {
  capabilities = ["create", "update", "read", "delete"]
}
path "sys/policy/gatehouse-grant-*" {
  capabilities = ["create", "update", "read", "delete"]
}

# Grant tokens, and the one-minute tokens of a reveal, a rotation or a
# catalog operation, are minted through a token role per tenant mount
# (gatehouse-grants-<mount>), which Gatehouse creates on the mount's first
# token. Minting through a role needs no sudo. The role's parameters are
# pinned to exactly these values: orphan, not renewable, service tokens that
# may carry grant policies only, so Gatehouse cannot make a role that mints
# anything else.
path "auth/token/roles/gatehouse-grants-*" {
  capabilities = ["create", "update"]
  allowed_parameters = {
    "orphan"                  = [true]
    "renewable"               = [false]
    "token_type"              = ["service"]
    "token_no_default_policy" = [true]
    "allowed_policies_glob"   = [["gatehouse-grant-*"]]
  }
}
path "auth/token/create/gatehouse-grants-*" {
  capabilities = ["create", "update"]
}
# Vault records the role in each token's path, so a tenant freeze revokes
# every token minted on the tenant's mount with one call: sudo on exactly
# those paths, which hold nothing but tokens Gatehouse minted.
path "sys/leases/revoke-prefix/auth/token/create/gatehouse-grants-*" {
  capabilities = ["update", "sudo"]
}
path "auth/token/lookup-accessor" {
  capabilities = ["update"]
}
path "auth/token/revoke-accessor" {
  capabilities = ["update"]
}
