// Tool results: what kubectl, oc, helm, a shell or an HTTP API hands back to
// an agent — describe and get output, logs, files read with cat, JSON API
// answers — each holding fake credentials of the corpus types.

import type { Fakes } from './fakes.js';
import { type Built, s, t } from './template.js';

const b64 = (v: string) => Buffer.from(v).toString('base64');

export function toolResults(f: Fakes): [name: string, doc: Built][] {
  const uid = f.uuid();
  const dbPass = f.password();
  const apiKey = f.opaqueToken(40);
  const lastApplied = JSON.stringify({
    apiVersion: 'v1',
    data: { password: b64(dbPass), username: b64('orders') },
    kind: 'Secret',
    metadata: { annotations: {}, name: 'orders-db', namespace: 'shop' },
    type: 'Opaque',
  });
  const regPass = f.strongPassword();
  const dockerAuth = b64(`robot$shop+pull:${regPass}`);
  return [
    [
      '01-get-secret.yaml',
      t`apiVersion: v1
data:
  password: ${s('k8s-secret-data', b64(dbPass))}
  username: ${s('k8s-secret-data', b64('orders'))}
kind: Secret
metadata:
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: |
      ${s('k8s-secret-data', lastApplied)}
  creationTimestamp: "2026-11-02T09:14:11Z"
  name: orders-db
  namespace: shop
  resourceVersion: "48211903"
  uid: ${uid}
type: Opaque
`,
    ],
    [
      '02-describe-pod.txt',
      t`Name:             orders-api-7d9c8b6f5-q2x7m
Namespace:        shop
Priority:         0
Service Account:  orders-api
Node:             ip-10-0-3-17.eu-west-1.compute.internal/10.0.3.17
Start Time:       Mon, 02 Nov 2026 09:15:40 +0000
Labels:           app=orders-api
                  pod-template-hash=7d9c8b6f5
Status:           Running
IP:               10.42.3.19
Containers:
  api:
    Container ID:   containerd://${f.hex(64)}
    Image:          registry.example.com/shop/orders-api:3.1.0
    Image ID:       registry.example.com/shop/orders-api@sha256:${f.hex(64)}
    Port:           8080/TCP
    State:          Running
    Ready:          True
    Restart Count:  4
    Environment:
      DB_HOST:            orders-db.shop.svc
      DB_USER:            orders
      DB_PASSWORD:        ${s('pod-env-literal', f.password())}
      PAYMENTS_API_KEY:   ${s('pod-env-literal', apiKey)}
      JWT_SIGNING_KEY:    ${s('pod-env-literal', f.strongPassword())}
      REDIS_PASSWORD:     <set to the key 'password' in secret 'redis'>  Optional: false
    Mounts:
      /var/run/secrets/kubernetes.io/serviceaccount from kube-api-access-8xk2p (ro)
Events:
  Type     Reason   Age                From     Message
  ----     ------   ----               ----     -------
  Warning  BackOff  2m (x14 over 30m)  kubelet  Back-off restarting failed container api in pod orders-api-7d9c8b6f5-q2x7m_shop(${uid})
`,
    ],
    [
      '03-pod-logs.log',
      t`2026-11-02T09:15:41.201Z INFO  starting orders-api version=3.1.0 commit=${f.hex(40)}
2026-11-02T09:15:41.305Z DEBUG config loaded: db=postgres://orders:${s('db-url-password', f.password())}@orders-db.shop.svc:5432/orders pool=10
2026-11-02T09:15:41.410Z DEBUG outgoing request POST https://payments.example.com/v1/charges headers={"Authorization":"Bearer ${s('bearer-token', f.opaqueToken(40))}","Content-Type":"application/json"}
2026-11-02T09:15:41.522Z WARN  slack notifier using token ${s('slack-token', f.slackBot())} (deprecated, switch to webhook)
{"level":"debug","ts":"2026-11-02T09:15:42.001Z","msg":"auth provider configured","provider":"partner","api_key":"${s('generic-api-key', f.alnum(32))}","timeout":"5s"}
2026-11-02T09:15:42.100Z INFO  request_id=${f.uuid()} GET /healthz 200 1.2ms
2026-11-02T09:15:43.733Z ERROR upstream rejected credentials: Authorization: Basic ${s('basic-auth-header', b64(`svc-orders:${f.password()}`))}
2026-11-02T09:15:44.020Z INFO  connected to amqp://orders:${s('db-url-password', f.strongPassword())}@rabbitmq.shop.svc:5672/
`,
    ],
    [
      '04-get-pod.json',
      t`{
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "billing-sync-28817760-x7k2q",
        "namespace": "billing",
        "uid": "${f.uuid()}",
        "resourceVersion": "91827364"
    },
    "spec": {
        "containers": [
            {
                "env": [
                    {
                        "name": "STRIPE_API_KEY",
                        "value": "${s('stripe-key', f.stripeSecret())}"
                    },
                    {
                        "name": "SMTP_PASSWORD",
                        "value": "${s('pod-env-literal', f.password())}"
                    },
                    {
                        "name": "SYNC_INTERVAL",
                        "value": "300"
                    },
                    {
                        "name": "DB_PASSWORD",
                        "valueFrom": {
                            "secretKeyRef": {
                                "key": "password",
                                "name": "billing-db"
                            }
                        }
                    }
                ],
                "image": "registry.example.com/billing/sync:1.9.2",
                "name": "sync"
            }
        ],
        "serviceAccountName": "billing-sync"
    }
}
`,
    ],
    [
      '05-cat-kubeconfig.yaml',
      t`apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${b64(`-----BEGIN CERTIFICATE-----\n${f.alnum(64)}\n-----END CERTIFICATE-----\n`)}
    server: https://k8s.dev.example.com:6443
  name: dev
contexts:
- context:
    cluster: dev
    namespace: default
    user: dev-admin
  name: dev
current-context: dev
kind: Config
preferences: {}
users:
- name: dev-admin
  user:
    client-certificate-data: ${b64(`-----BEGIN CERTIFICATE-----\n${f.alnum(64)}\n-----END CERTIFICATE-----\n`)}
    client-key-data: ${s('kubeconfig-client-key', b64(`${f.rsaKey()}\n`))}
- name: legacy-basic
  user:
    username: admin
    password: ${s('kubeconfig-password', f.password())}
- name: oidc
  user:
    auth-provider:
      config:
        client-id: kubernetes
        client-secret: ${s('kubeconfig-token', f.alnum(32))}
        id-token: ${s('jwt', f.jwt())}
        idp-issuer-url: https://login.example-idp.com/
        refresh-token: ${s('kubeconfig-token', f.alnum(40))}
      name: oidc
- name: eks
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - eks
      - get-token
      - --cluster-name
      - prod
      command: aws
- name: bot
  user:
    token: ${s('kubeconfig-token', f.hex(64))}
`,
    ],
    [
      '06-dockerconfigjson.json',
      t`{"auths":{"harbor.example.com":{"username":"robot$shop+pull","password":"${s('docker-config-auth', regPass)}","auth":"${s('docker-config-auth', dockerAuth)}"},"https://index.docker.io/v1/":{"auth":"${s('docker-config-auth', b64(`acme:${f.dockerHubPat()}`))}"}}}
`,
    ],
    [
      '07-printenv.txt',
      t`HOSTNAME=ci-runner-5f7c9d8b7-ptq4w
HOME=/root
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
KUBERNETES_SERVICE_HOST=10.96.0.1
KUBERNETES_SERVICE_PORT=443
AWS_ACCESS_KEY_ID=${s('aws-access-key-id', f.awsAccessKeyId())}
AWS_SECRET_ACCESS_KEY=${s('aws-secret-access-key', f.awsSecretAccessKey())}
AWS_REGION=eu-central-1
GITHUB_TOKEN=${s('github-token', f.githubPat())}
NPM_TOKEN=${s('npm-token', f.npmToken())}
HF_TOKEN=${s('huggingface-token', f.huggingface())}
ANTHROPIC_API_KEY=${s('anthropic-key', f.anthropic())}
CI_JOB_TOKEN=${s('gitlab-token', f.gitlabRunner())}
TERM=xterm
`,
    ],
    [
      '08-helm-get-values.yaml',
      t`USER-SUPPLIED VALUES:
auth:
  adminUser: admin
  adminPassword: ${s('password-assignment', f.password())}
grafana.ini:
  database:
    type: postgres
    host: grafana-db:5432
    user: grafana
    password: ${s('password-assignment', f.strongPassword())}
  smtp:
    enabled: true
    host: smtp.sendgrid.net:587
    user: apikey
    password: ${s('sendgrid-key', f.sendgrid())}
persistence:
  enabled: true
  size: 10Gi
`,
    ],
    [
      '09-api-integrations.json',
      t`{"data":[{"id":"int_${f.alnum(14)}","type":"notification","name":"deploys","config":{"webhook_url":"${s('slack-webhook', f.slackWebhook())}","channel":"#deploys"}},{"id":"int_${f.alnum(14)}","type":"llm","name":"summaries","config":{"provider":"openai","apiKey":"${s('openai-key', f.openaiProject())}","model":"gpt-4o"}},{"id":"int_${f.alnum(14)}","type":"vcs","name":"gitlab","config":{"url":"https://gitlab.example.com","access_token":"${s('gitlab-token', f.gitlabPat())}"}}],"page":1,"total":3}
`,
    ],
    [
      '10-cat-mycnf-pgpass.txt',
      t`$ cat /etc/mysql/conf.d/backup.cnf
[client]
user = backup
password = "${s('password-assignment', f.strongPassword())}"
host = 127.0.0.1

$ cat ~/.pgpass
*:5432:*:postgres:${s('pgpass', f.password())}
`,
    ],
    [
      '11-configmap-properties.yaml',
      t`apiVersion: v1
data:
  application.properties: |
    server.port=8080
    spring.datasource.url=jdbc:postgresql://ledger-db:5432/ledger
    spring.datasource.username=ledger
    spring.datasource.password=${s('password-assignment', f.password())}
    ledger.partner.api-key=${s('generic-api-key', f.alnum(40))}
  log-level: info
kind: ConfigMap
metadata:
  name: ledger-config
  namespace: finance
  resourceVersion: "7731920"
  uid: ${f.uuid()}
`,
    ],
    [
      '12-kubeadm-output.txt',
      t`[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace
[upload-certs] Using certificate key:
${s('kubeadm-certificate-key', f.certificateKey())}
[mark-control-plane] Marking the node cp-1 as control-plane
[bootstrap-token] Using token: ${s('bootstrap-token', f.bootstrapToken())}

You can now join any number of control-plane nodes by running:

  kubeadm join cp.example.internal:6443 --token ${s('bootstrap-token', f.bootstrapToken())} \\
	--discovery-token-ca-cert-hash sha256:${f.hex(64)} \\
	--control-plane --certificate-key ${s('kubeadm-certificate-key', f.certificateKey())}
`,
    ],
    [
      '13-oc-whoami.txt',
      t`$ oc whoami
kube:admin
$ oc whoami -t
${s('openshift-token', f.openshiftToken())}
$ oc get oauthclient
NAME                           SECRET   WWW-CHALLENGE   TOKEN-MAX-AGE   REDIRECT URIS
openshift-browser-client                false           default         https://oauth-openshift.apps.ocp4.example.com/oauth/token/display
`,
    ],
    [
      '14-create-token.txt',
      t`$ kubectl create token agent-bot -n agents --duration=1h
${s('k8s-sa-token', f.saToken('agents', 'agent-bot'))}
$ kubectl get secret legacy-sa-token -n agents -o jsonpath='{.data.token}' | base64 -d
${s('k8s-sa-token', f.legacySaToken('agents', 'legacy-bot'))}
`,
    ],
    [
      '15-cat-dotfiles.txt',
      t`==> /home/dev/.npmrc <==
@acme:registry=https://npm.pkg.github.com
//npm.pkg.github.com/:_authToken=${s('github-token', f.githubPat())}

==> /home/dev/.pypirc <==
[distutils]
index-servers = pypi

[pypi]
username = __token__
password = ${s('pypi-token', f.pypiToken())}

==> /home/dev/.git-credentials <==
https://x-access-token:${s('github-token', f.githubOauth())}@github.com
`,
    ],
    [
      '16-tls-secret.yaml',
      t`apiVersion: v1
data:
  tls.crt: ${s('k8s-secret-data', b64(`-----BEGIN CERTIFICATE-----\n${f.alnum(64)}\n-----END CERTIFICATE-----\n`))}
  tls.key: ${s('k8s-secret-data', b64(`${f.ecKey()}\n`))}
kind: Secret
metadata:
  name: shop-tls
  namespace: shop
type: kubernetes.io/tls
---
$ cat /etc/ssh/ssh_host_ed25519_key
${s('private-key-openssh', f.opensshKey())}
`,
    ],
    [
      '17-az-cli.json',
      t`[
  {
    "creationTime": "2026-10-01T08:12:44.000000+00:00",
    "keyName": "key1",
    "permissions": "FULL",
    "value": "${s('azure-storage-key', f.azureStorageKey())}"
  }
]
{
  "appId": "${f.uuid()}",
  "displayName": "agent-automation",
  "password": "${s('azure-client-secret', f.azureAdClientSecret())}",
  "tenant": "${f.uuid()}"
}
`,
    ],
    [
      '18-gcloud-key.json',
      t`{
  "type": "service_account",
  "project_id": "acme-data-2718",
  "private_key_id": "${f.hex(40)}",
  "private_key": "${s('gcp-service-account-key', JSON.stringify(f.pkcs8Key()).slice(1, -1))}\\n",
  "client_email": "etl@acme-data-2718.iam.gserviceaccount.com",
  "client_id": "10${f.hex(19).replace(/[a-f]/g, '3')}",
  "token_uri": "https://oauth2.googleapis.com/token"
}
`,
    ],
    [
      '19-sts-credentials.json',
      t`{
    "Credentials": {
        "AccessKeyId": "${s('aws-access-key-id', f.awsAccessKeyId())}",
        "SecretAccessKey": "${s('aws-secret-access-key', f.awsSecretAccessKey())}",
        "SessionToken": "${s('aws-session-token', `IQoJb3JpZ2luX2VjE${f.alnum(300)}`)}",
        "Expiration": "2026-11-02T21:15:09+00:00"
    },
    "AssumedRoleUser": {
        "AssumedRoleId": "AROA${f.lower(17).toUpperCase()}:agent-session",
        "Arn": "arn:aws:sts::123456789012:assumed-role/agent/agent-session"
    }
}
`,
    ],
    [
      '20-ci-log.log',
      t`2026-11-02T10:01:12.0000000Z ##[group]Run git clone
2026-11-02T10:01:12.1000000Z git clone https://x-access-token:${s('github-token', f.githubOauth())}@github.com/acme/infra.git
2026-11-02T10:01:13.4000000Z Cloning into 'infra'...
2026-11-02T10:01:20.0000000Z Run docker login -u acme -p ${s('docker-hub-pat', f.dockerHubPat())}
2026-11-02T10:01:21.0000000Z WARNING! Using --password via the CLI is insecure. Use --password-stdin.
2026-11-02T10:01:25.0000000Z Run helm upgrade --install web ./chart --set db.password=${s('cli-password-flag', f.password())} --set image.tag=1.4.2
2026-11-02T10:01:30.0000000Z Run vault login ${s('vault-token', f.vault())}
`,
    ],
    [
      '21-docker-inspect.json',
      t`[
    {
        "Id": "${f.hex(64)}",
        "Created": "2026-11-02T08:00:01.123456789Z",
        "Image": "sha256:${f.hex(64)}",
        "Config": {
            "Hostname": "${f.hex(12)}",
            "Env": [
                "POSTGRES_USER=warehouse",
                "POSTGRES_PASSWORD=${s('dotenv-secret', f.password())}",
                "DATABRICKS_TOKEN=${s('databricks-token', f.databricks())}",
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "PGDATA=/var/lib/postgresql/data"
            ]
        }
    }
]
`,
    ],
    [
      '22-vault-token-create.txt',
      t`Key                  Value
---                  -----
token                ${s('vault-token', f.vault())}
token_accessor       ${f.alnum(24)}
token_duration       768h
token_renewable      true
token_policies       ["default" "deployer"]
identity_policies    []
policies             ["default" "deployer"]
`,
    ],
    [
      '23-describe-secret.txt',
      t`$ kubectl get secret payments-api -n payments -o go-template='{{range $k,$v := .data}}{{$k}}={{$v | base64decode}}{{"\\n"}}{{end}}'
api-key=${s('k8s-secret-data', f.opaqueToken(40))}
db-password=${s('k8s-secret-data', f.password())}
twilio-key=${s('twilio-key', f.twilioKey())}
shopify-token=${s('shopify-token', f.shopify())}
do-token=${s('digitalocean-token', f.digitalocean())}
`,
    ],
  ];
}
