"""moto_server, teaching its IAM enforcement the resource of Secrets Manager calls.

moto enforces IAM policies (once /moto-api/reset-auth turns it on) but
checks resources only for a few services; for the others it evaluates every
call against the resource "*", so a policy allowing one secret's ARN allows
nothing. This launcher resolves the SecretId of a Secrets Manager call to the
secret's ARN, as AWS does, and then runs moto_server unchanged. A secret that
does not exist resolves to "*".
"""
import sys

from moto.secretsmanager.models import secretsmanager_backends
from moto.secretsmanager.responses import SecretsManagerResponse
from moto.server import main


def _determine_resource(self):
    secret_id = self._get_param("SecretId") or self._get_param("Name")
    if not secret_id:
        return "*"
    secret = secretsmanager_backends[self.current_account][self.region].secrets.get(secret_id)
    return secret.arn if secret is not None else "*"


SecretsManagerResponse._determine_resource = _determine_resource

if __name__ == "__main__":
    sys.exit(main())
