"""moto_server with two gaps filled so it behaves as AWS does here.

1. moto enforces IAM policies (once /moto-api/reset-auth turns it on) but
   checks resources only for a few services; for the others it evaluates
   every call against the resource "*", so a policy allowing one secret's
   ARN allows nothing. The SecretId of a Secrets Manager call is resolved to
   the secret's ARN (a secret that does not exist resolves to "*").
2. Moving AWSCURRENT with UpdateSecretVersionStage does not update the
   version moto's later PutSecretValue demotes, so after a rollback a new
   write leaves two versions labelled AWSCURRENT. The move now updates it.

Everything else is moto_server unchanged.
"""
import sys

from moto.secretsmanager.models import SecretsManagerBackend, secretsmanager_backends
from moto.secretsmanager.responses import SecretsManagerResponse
from moto.server import main


def _determine_resource(self):
    secret_id = self._get_param("SecretId") or self._get_param("Name")
    if not secret_id:
        return "*"
    secret = secretsmanager_backends[self.current_account][self.region].secrets.get(secret_id)
    return secret.arn if secret is not None else "*"


SecretsManagerResponse._determine_resource = _determine_resource

_update_stage = SecretsManagerBackend.update_secret_version_stage


def _update_secret_version_stage(self, secret_id, version_stage, remove_from_version_id, move_to_version_id):
    result = _update_stage(self, secret_id, version_stage, remove_from_version_id, move_to_version_id)
    if version_stage == "AWSCURRENT" and move_to_version_id:
        self.secrets[secret_id].default_version_id = move_to_version_id
    return result


SecretsManagerBackend.update_secret_version_stage = _update_secret_version_stage

if __name__ == "__main__":
    sys.exit(main())
