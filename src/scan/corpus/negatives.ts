// Hard negatives: texts that look like they hold credentials and do not —
// digests, UIDs, checksums, resource versions, API paths, certificates,
// public keys, placeholders and references, error codes, prose about tokens.
// Any finding in them is a false positive.

import type { Fakes } from './fakes.js';
import { type Built, t } from './template.js';

const b64 = (v: string) => Buffer.from(v).toString('base64');

export function negatives(f: Fakes): [name: string, doc: Built][] {
  const cert = (n: number) =>
    ['-----BEGIN CERTIFICATE-----', ...Array.from({ length: n }, () => f.alnum(64)), `${f.alnum(20)}==`, '-----END CERTIFICATE-----'].join('\n');
  return [
    [
      '01-describe-pod.txt',
      t`Name:             web-6f7d8c9b5-k2m4n
Namespace:        shop
Service Account:  web
Labels:           app=web
                  pod-template-hash=6f7d8c9b5
Annotations:      checksum/secret: ${f.hex(64)}
                  checksum/config: ${f.hex(64)}
Containers:
  web:
    Container ID:   containerd://${f.hex(64)}
    Image:          registry.example.com/shop/web@sha256:${f.hex(64)}
    Image ID:       registry.example.com/shop/web@sha256:${f.hex(64)}
    Environment:
      DB_PASSWORD:    <set to the key 'password' in secret 'web-db'>  Optional: false
      API_TOKEN:      <set to the key 'token' in secret 'partner-api'>  Optional: false
      SECRET_NAME:    web-db
    Mounts:
      /var/run/secrets/kubernetes.io/serviceaccount from kube-api-access-${f.lower(5)} (ro)
      /etc/tls from tls (ro)
Volumes:
  tls:
    Type:        Secret (a volume populated by a Secret)
    SecretName:  web-tls
    Optional:    false
  kube-api-access-${f.lower(5)}:
    Type:                    Projected (a volume that contains injected data from multiple sources)
    TokenExpirationSeconds:  3607
    ConfigMapName:           kube-root-ca.crt
Events:
  Normal  Pulled  12s  kubelet  Successfully pulled image "registry.example.com/shop/web@sha256:${f.hex(64)}" in 1.2s
`,
    ],
    [
      '02-get-deployment.yaml',
      t`apiVersion: apps/v1
kind: Deployment
metadata:
  annotations:
    deployment.kubernetes.io/revision: "12"
  generation: 14
  name: checkout
  namespace: shop
  resourceVersion: "81723645"
  uid: ${f.uuid()}
spec:
  template:
    metadata:
      annotations:
        checksum/secret: ${f.hex(64)}
        checksum/config: ${f.hex(64)}
        kubectl.kubernetes.io/restartedAt: "2026-11-01T10:00:00Z"
    spec:
      imagePullSecrets:
      - name: regcred
      serviceAccountName: checkout
      containers:
      - name: checkout
        image: registry.example.com/shop/checkout@sha256:${f.hex(64)}
        env:
        - name: DB_PASSWORD
          valueFrom:
            secretKeyRef:
              name: checkout-db
              key: password
        - name: API_KEY_FILE
          value: /var/run/secrets/partner/api-key
        - name: TOKEN_URL
          value: https://auth.example.com/oauth2/token
        - name: PASSWORD_MIN_LENGTH
          value: "12"
        envFrom:
        - secretRef:
            name: checkout-env
`,
    ],
    [
      '03-aws-errors.log',
      t`2026-11-02 10:11:12,345 ERROR botocore An error occurred (InvalidClientTokenId) when calling the GetCallerIdentity operation: The security token included in the request is invalid.
2026-11-02 10:11:13,001 ERROR botocore An error occurred (SignatureDoesNotMatch) when calling the PutObject operation: The request signature we calculated does not match the signature you provided.
2026-11-02 10:11:14,222 WARN  botocore.credentials Refreshing temporary credentials failed: ExpiredTokenException
RequestId: ${f.uuid()}  x-amz-id-2: ${b64(f.alnum(48))}
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
`,
    ],
    [
      '04-kubeconfig-exec.yaml',
      t`apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: ${b64(`${cert(8)}\n`)}
    server: https://${f.hex(32).toUpperCase()}.gr7.eu-west-1.eks.amazonaws.com
  name: arn:aws:eks:eu-west-1:123456789012:cluster/prod
contexts:
- context:
    cluster: arn:aws:eks:eu-west-1:123456789012:cluster/prod
    user: arn:aws:eks:eu-west-1:123456789012:cluster/prod
  name: prod
current-context: prod
users:
- name: arn:aws:eks:eu-west-1:123456789012:cluster/prod
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: ["--region", "eu-west-1", "eks", "get-token", "--cluster-name", "prod"]
      env:
      - name: AWS_PROFILE
        value: prod-admin
- name: file-token
  user:
    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token
`,
    ],
    [
      '05-public-material.txt',
      t`Here is the chain the ingress serves and my public key, is the chain complete?

${cert(12)}
${cert(10)}

ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${f.alnum(43)} dev@laptop
ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQ${f.alnum(300)} deploy@ci

-----BEGIN PGP PUBLIC KEY BLOCK-----

mQINBF${f.alnum(58)}
${f.alnum(64)}
=${f.alnum(4)}
-----END PGP PUBLIC KEY BLOCK-----
`,
    ],
    [
      '06-placeholder-values.yaml',
      t`# values.yaml — credentials come from existing Secrets
postgresql:
  auth:
    existingSecret: app-db-credentials
    secretKeys:
      adminPasswordKey: postgres-password
      userPasswordKey: password
    password: ""
redis:
  auth:
    password: changeme
    existingSecretPasswordKey: redis-password
smtp:
  password: "{{ .Values.global.smtpPassword }}"
  token: \${SMTP_TOKEN}
  apiKey: <your-api-key>
oauth:
  clientSecret: REDACTED
  cookieSecret: "xxxxxxxxxxxxxxxx"
  password: '********'
webhook:
  secret: $(WEBHOOK_SECRET)
`,
    ],
    [
      '07-checksums.txt',
      t`$ cat go.sum | head -3
github.com/spf13/cobra v1.9.1 h1:${b64(f.alnum(32)).slice(0, 43)}=
github.com/spf13/cobra v1.9.1/go.mod h1:${b64(f.alnum(32)).slice(0, 43)}=
$ grep integrity package-lock.json | head -2
      "integrity": "sha512-${b64(f.alnum(64))}",
      "integrity": "sha512-${b64(f.alnum(64))}",
$ sha256sum kubectl
${f.hex(64)}  kubectl
$ git log --oneline -3
${f.hex(7)} fix token refresh in the auth middleware
${f.hex(7)} rotate secrets via external-secrets
${f.hex(7)} bump password hashing cost to 12
pip install --require-hashes -r requirements.txt  # requests==2.32.3 --hash=sha256:${f.hex(64)}
`,
    ],
    [
      '08-audit-paths.log',
      t`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"${f.uuid()}","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/prod/secrets/db-password","verb":"get","user":{"username":"system:serviceaccount:agents:remediator","uid":"${f.uuid()}","groups":["system:serviceaccounts","system:serviceaccounts:agents","system:authenticated"]},"objectRef":{"resource":"secrets","namespace":"prod","name":"db-password","apiVersion":"v1"},"responseStatus":{"code":403}}
{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"${f.uuid()}","requestURI":"/apis/authentication.k8s.io/v1/tokenreviews","verb":"create","user":{"username":"system:kube-controller-manager"},"objectRef":{"resource":"tokenreviews","apiGroup":"authentication.k8s.io"}}
I1102 10:12:13.456789       1 token_cleaner.go:124] "Deleted expired bootstrap token" secret="kube-system/bootstrap-token-${f.lower(6)}"
`,
    ],
    [
      '09-get-secrets-table.txt',
      t`$ kubectl get secrets -n shop
NAME                        TYPE                                  DATA   AGE
checkout-db                 Opaque                                2      41d
default-token-${f.lower(5)}         kubernetes.io/service-account-token   3      212d
regcred                     kubernetes.io/dockerconfigjson        1      90d
web-tls                     kubernetes.io/tls                     2      12d
$ kubectl get sa web -o jsonpath='{.secrets[*].name}'
web-token-${f.lower(5)}
`,
    ],
    [
      '10-metrics.txt',
      t`# HELP apiserver_authentication_attempts Counter of authenticated attempts.
# TYPE apiserver_authentication_attempts counter
apiserver_authentication_attempts{result="success",token_type="bearer"} 19283
authentication_token_cache_request_total{status="miss"} 8812
serviceaccount_valid_tokens_total 4411
vault_token_count_by_ttl{creation_ttl="+Inf",namespace="root"} 12
process_start_time_seconds 1.76208e+09
go_memstats_heap_alloc_bytes 4.1943e+07
goroutine 1 [running]:
main.(*tokenCache).refresh(0xc000123abc, {0x1a2b3c4d5e6f7a8b, 0xc0004d2f00})
	/src/auth/cache.go:88 +0x1f4
`,
    ],
    [
      '11-prose.txt',
      t`How do I rotate the service account token for the agent? I read that the token controller
creates them automatically, and that bound tokens expire after an hour. Our security team wants
password_min_length=14 and token_ttl=3600s, and the secret name must be agent-credentials.
Also, what does "InvalidClientTokenId" mean and why does the error say SignatureDoesNotMatch?
I set the password with: kubectl create secret generic db --from-literal=password=$(openssl rand -base64 24)
`,
    ],
    [
      '12-env-example.env',
      t`# .env.example — copy to .env and fill in
DATABASE_URL=postgres://user:password@localhost:5432/app
REDIS_URL=redis://localhost:6379
SECRET_KEY=
STRIPE_SECRET_KEY=sk_test_xxxxxxxxxxxxxxxxxxxxxxxx
OPENAI_API_KEY=<your-openai-key>
GITHUB_TOKEN=\${GITHUB_TOKEN}
AWS_SECRET_ACCESS_KEY=your-secret-access-key
SMTP_PASSWORD=changeme
`,
    ],
    [
      '13-api-ids.json',
      t`{"items":[{"id":"${f.hex(24)}","etag":"W/\\"${f.hex(32)}\\"","traceId":"${f.hex(32)}","spanId":"${f.hex(16)}","createdBy":"${f.uuid()}","resourceVersion":"${f.lower(8).replace(/[a-z]/g, '4')}","tokenType":"Bearer","expiresIn":3600,"keyId":"${f.uuid()}","passwordLastChanged":"2026-10-01T00:00:00Z","secretRef":{"name":"partner-api","key":"token"}}],"next":"/api/v1/items?continue=${b64(f.alnum(40))}"}
`,
    ],
    [
      '14-webhook-cabundle.yaml',
      t`apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: belay
  uid: ${f.uuid()}
webhooks:
- name: validate.belay.dev
  clientConfig:
    caBundle: ${b64(`${cert(6)}\n`)}
    service:
      name: belay
      namespace: belay-system
      path: /validate
  sideEffects: NoneOnDryRun
---
apiVersion: v1
binaryData:
  logo.png: ${b64(f.alnum(120))}
kind: ConfigMap
metadata:
  name: branding
`,
    ],
    [
      '15-docker-images.txt',
      t`$ docker images --digests
REPOSITORY                         TAG       DIGEST                                                                    IMAGE ID       CREATED        SIZE
registry.example.com/shop/web      2.4.1     sha256:${f.hex(64)}   ${f.hex(12)}   2 days ago     142MB
registry.example.com/shop/orders   3.1.0     sha256:${f.hex(64)}   ${f.hex(12)}   3 days ago     98.1MB
$ crictl inspecti ${f.hex(12)} | grep -i chainid
    "chainID": "sha256:${f.hex(64)}",
`,
    ],
    [
      '16-kubeadm-hash.txt',
      t`$ openssl x509 -pubkey -in /etc/kubernetes/pki/ca.crt | openssl rsa -pubin -outform der 2>/dev/null | sha256sum
${f.hex(64)}  -
$ kubeadm token list
TOKEN                     TTL         EXPIRES                USAGES                   DESCRIPTION
<redacted>                23h         2026-11-03T10:00:00Z   authentication,signing   <none>
$ kubeadm join cp.example.internal:6443 --token <token> --discovery-token-ca-cert-hash sha256:${f.hex(64)}
`,
    ],
    [
      '17-references.txt',
      t`Authorization: Bearer $TOKEN
curl -u "$USER:$PASSWORD" https://api.example.com/v1/status
curl -H "Authorization: Bearer \${API_TOKEN}" https://api.example.com/v1/me
mysql -u root -p"$MYSQL_ROOT_PASSWORD"
psql postgresql://app:\${DB_PASSWORD}@db:5432/app
password: {{ .Values.db.password | quote }}
token: {{ .Values.token }}
aws_secret_access_key: arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/app-${f.alnum(6)}
client_secret: projects/123456789/secrets/oauth-client/versions/latest
db_password: vault:secret/data/app#password
`,
    ],
    [
      '18-crd-schema.yaml',
      t`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: databases.acme.io
spec:
  versions:
  - name: v1
    schema:
      openAPIV3Schema:
        properties:
          spec:
            properties:
              passwordSecretRef:
                type: object
                properties:
                  name:
                    type: string
                  key:
                    type: string
              tokenSecretName:
                type: string
                description: Name of the Secret holding the API token
              password:
                type: string
                description: Deprecated, use passwordSecretRef
`,
    ],
  ];
}
