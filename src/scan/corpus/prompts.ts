// Prompts: what a person types or pastes to an agent — questions with a
// config file, a shell history or an error pasted in, each holding fake
// credentials of the corpus types.

import type { Fakes } from './fakes.js';
import { type Built, s, t } from './template.js';

const b64 = (v: string) => Buffer.from(v).toString('base64');
const jsonEscaped = (v: string) => JSON.stringify(v).slice(1, -1);

export function prompts(f: Fakes): [name: string, doc: Built][] {
  const gcpKey = f.rsaKey();
  const dockerPass = f.strongPassword();
  return [
    [
      '01-docker-config.json',
      t`My pods are stuck in ImagePullBackOff since this morning. This is the docker config I used to create the pull secret, can you tell me what's wrong?

{
  "auths": {
    "registry.internal.example.com:5000": {
      "auth": "${s('docker-config-auth', b64(`ci-bot:${dockerPass}`))}"
    },
    "ghcr.io": {
      "username": "octo-deployer",
      "password": "${s('github-token', f.githubPat())}"
    }
  },
  "credsStore": "desktop"
}

I ran kubectl create secret generic regcred --from-file=.dockerconfigjson=config.json --type=kubernetes.io/dockerconfigjson`,
    ],
    [
      '02-dotenv.env',
      t`here's my .env for the billing service, the app can't reach the db after the migration. what am I missing?

NODE_ENV=production
PORT=3000
LOG_LEVEL=debug
DATABASE_URL=postgres://billing:${s('db-url-password', f.password())}@billing-db.prod.svc.cluster.local:5432/billing
REDIS_URL=redis://:${s('db-url-password', f.strongPassword())}@redis-master:6379/0
SECRET_KEY_BASE=${s('dotenv-secret', f.hex(64))}
STRIPE_SECRET_KEY=${s('stripe-key', f.stripeSecret())}
OPENAI_API_KEY=${s('openai-key', f.openaiProject())}
SENDGRID_API_KEY=${s('sendgrid-key', f.sendgrid())}
SESSION_SECRET=${s('dotenv-secret', f.strongPassword())}
FEATURE_FLAGS=checkout-v2,new-invoices
`,
    ],
    [
      '03-kubeconfig.yaml',
      t`kubectl says "error: You must be logged in to the server (Unauthorized)" with this kubeconfig, the CI user works but admin doesn't:

apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: ${b64('-----BEGIN CERTIFICATE-----\nMIIC/jCCAeagAwIBAgIBADANBgkqhkiG9w0BAQsFADAVMRMwEQYDVQQDEwprdWJl\n-----END CERTIFICATE-----\n')}
    server: https://10.20.0.15:6443
  name: prod
contexts:
- context:
    cluster: prod
    user: admin
  name: admin@prod
- context:
    cluster: prod
    user: ci
  name: ci@prod
current-context: admin@prod
users:
- name: admin
  user:
    client-certificate-data: ${b64('-----BEGIN CERTIFICATE-----\nMIIDITCCAgmgAwIBAgIIY2VydGlmaWNhdGUwDQYJKoZIhvcNAQELBQAwFTETMBEG\n-----END CERTIFICATE-----\n')}
    client-key-data: ${s('kubeconfig-client-key', b64(`${f.ecKey()}\n`))}
- name: ci
  user:
    token: ${s('kubeconfig-token', f.opaqueToken(52))}
`,
    ],
    [
      '04-aws-credentials.ini',
      t`aws s3 ls works on my laptop but the CronJob gets AccessDenied. ~/.aws/credentials:

[default]
aws_access_key_id = ${s('aws-access-key-id', f.awsAccessKeyId())}
aws_secret_access_key = ${s('aws-secret-access-key', f.awsSecretAccessKey())}
region = eu-west-1

[backup]
aws_access_key_id=${s('aws-access-key-id', f.awsAccessKeyId())}
aws_secret_access_key=${s('aws-secret-access-key', f.awsSecretAccessKey())}
`,
    ],
    [
      '05-pod-env.yaml',
      t`Please add resource requests and limits to this pod, keep everything else as is:

apiVersion: v1
kind: Pod
metadata:
  name: orders-worker
  namespace: shop
spec:
  containers:
  - name: worker
    image: registry.example.com/shop/orders-worker:2.4.1
    env:
    - name: DB_HOST
      value: orders-db.shop.svc
    - name: DB_PASSWORD
      value: ${s('pod-env-literal', f.password())}
    - name: PAYMENT_API_TOKEN
      value: "${s('pod-env-literal', f.opaqueToken(32))}"
    - name: LOG_FORMAT
      value: json
    - name: REDIS_PASSWORD
      value: '${s('pod-env-literal', f.strongPassword())}'
`,
    ],
    [
      '06-helm-values.yaml',
      t`Upgrading bitnami postgresql and redis, can you review my values.yaml?

global:
  storageClass: gp3
postgresql:
  auth:
    username: app
    password: ${s('password-assignment', f.password())}
    postgresPassword: ${s('password-assignment', f.strongPassword())}
    database: app
  primary:
    persistence:
      size: 20Gi
redis:
  architecture: standalone
  auth:
    enabled: true
    password: "${s('password-assignment', f.strongPassword())}"
ingress:
  enabled: true
  hostname: app.example.com
`,
    ],
    [
      '07-shell-history.txt',
      t`these are the commands I ran before the cluster broke, anything suspicious?

  501  kubeadm init phase upload-certs --upload-certs --certificate-key ${s('kubeadm-certificate-key', f.certificateKey())}
  502  kubeadm join 10.0.0.10:6443 --token ${s('bootstrap-token', f.bootstrapToken())} --discovery-token-ca-cert-hash sha256:${f.hex(64)}
  503  curl -u admin:${s('curl-basic-auth', f.password())} https://grafana.internal.example.com/api/health
  504  mysql -h mysql.db.svc -u root -p${s('cli-password-flag', f.strongPassword())} -e 'show databases'
  505  export GITHUB_TOKEN=${s('github-token', f.githubOauth())}
  506  docker login -u deployer -p ${s('docker-hub-pat', f.dockerHubPat())} docker.io
  507  psql "postgresql://report:${s('db-url-password', f.password())}@10.0.3.4:5432/reports?sslmode=require"
  508  kubectl get pods -A
`,
    ],
    [
      '08-python-snippet.txt',
      t`This script posts deploy notifications but Slack returns invalid_auth. Why?

import os, requests
from slack_sdk import WebClient

client = WebClient(token="${s('slack-token', f.slackBot())}")
WEBHOOK = "${s('slack-webhook', f.slackWebhook())}"

def notify(msg):
    requests.post(WEBHOOK, json={"text": msg})
    client.chat_postMessage(channel="#deploys", text=msg)
`,
    ],
    [
      '09-gcp-sa.json',
      t`gcloud auth activate-service-account fails with "invalid_grant" using this key, what's wrong with it?

{
  "type": "service_account",
  "project_id": "acme-prod-3141",
  "private_key_id": "${f.hex(40)}",
  "private_key": "${s('gcp-service-account-key', jsonEscaped(gcpKey))}\\n",
  "client_email": "deployer@acme-prod-3141.iam.gserviceaccount.com",
  "client_id": "1${f.hex(20).replace(/[a-f]/g, '7')}",
  "auth_uri": "https://accounts.google.com/o/oauth2/auth",
  "token_uri": "https://oauth2.googleapis.com/token"
}
Also the maps frontend uses key=${s('gcp-api-key', f.gcpApiKey())} — is that related?`,
    ],
    [
      '10-jwt-debug.txt',
      t`our API gateway rejects requests with 401. Request headers from the browser:

GET /api/v2/orders HTTP/1.1
Host: api.example.com
Authorization: Bearer ${s('jwt', f.jwt())}
Accept: application/json

what's wrong with the token?`,
    ],
    [
      '11-oc-login.txt',
      t`I can't log in anymore:

$ oc login --token=${s('openshift-token', f.openshiftToken())} --server=https://api.ocp4.example.com:6443
error: The server uses a certificate signed by unknown authority.

Should I add --insecure-skip-tls-verify?`,
    ],
    [
      '12-mycnf-pgpass.txt',
      t`backups stopped working after I moved the configs. ~/.my.cnf:

[client]
user=backup
password=${s('password-assignment', f.password())}
host=mysql-primary.db.svc

[mysqldump]
single-transaction

and ~/.pgpass:

pg-primary.db.svc:5432:*:replicator:${s('pgpass', f.strongPassword())}
10.0.4.12:5432:analytics:readonly:${s('pgpass', f.password())}
`,
    ],
    [
      '13-spring.properties',
      t`Spring Boot can't start, "Access denied for user 'orders'@'10.42.1.7'". application.properties:

server.port=8080
spring.datasource.url=jdbc:mysql://mysql.shop.svc:3306/orders?useSSL=true
spring.datasource.username=orders
spring.datasource.password=${s('password-assignment', f.password())}
spring.jpa.hibernate.ddl-auto=validate
management.endpoints.web.exposure.include=health,info
app.jwt.signing-secret=${s('password-assignment', f.alnum(48))}
`,
    ],
    [
      '14-azure.tfvars',
      t`terraform plan fails on the storage account data source, my terraform.tfvars:

location              = "westeurope"
client_id             = "${f.uuid()}"
client_secret         = "${s('azure-client-secret', f.azureAdClientSecret())}"
tenant_id             = "${f.uuid()}"
storage_connection    = "DefaultEndpointsProtocol=https;AccountName=acmelogs;AccountKey=${s('azure-storage-key', f.azureStorageKey())};EndpointSuffix=core.windows.net"
`,
    ],
    [
      '15-ci-registries.txt',
      t`The release job can't publish anymore. .gitlab-ci.yml variables section:

variables:
  GITLAB_TOKEN: ${s('gitlab-token', f.gitlabPatRoutable())}
  DOCKER_DRIVER: overlay2

and the .npmrc and .pypirc it writes:

//registry.npmjs.org/:_authToken=${s('npm-token', f.npmToken())}
registry=https://registry.npmjs.org/

[pypi]
username = __token__
password = ${s('pypi-token', f.pypiToken())}
`,
    ],
    [
      '16-llm-clients.txt',
      t`Why does this return 401 for Claude but not for the HF model?

import anthropic
from huggingface_hub import login

client = anthropic.Anthropic(api_key="${s('anthropic-key', f.anthropic())}")
login(token="${s('huggingface-token', f.huggingface())}")
legacy = OpenAI(api_key="${s('openai-key', f.openaiLegacy())}")
`,
    ],
    [
      '17-ssh-key.txt',
      t`ssh to the bastion says "invalid format" for this key, did I paste it wrong?

${s('private-key-openssh', f.opensshKey())}

and the ingress TLS key I use:
${s('private-key-ec', f.ecKey())}
`,
    ],
    [
      '18-secret-manifest.yaml',
      t`kubectl apply says the Secret is invalid, can you fix it?

apiVersion: v1
kind: Secret
metadata:
  name: payments-api
  namespace: payments
type: Opaque
data:
  api-key: ${s('k8s-secret-data', b64(f.opaqueToken(40)))}
  db-password: ${s('k8s-secret-data', b64(f.password()))}
stringData:
  webhook-secret: ${s('k8s-secret-data', f.alnum(32))}
`,
    ],
    [
      '19-platform-tokens.txt',
      t`I'm migrating our platform tokens into External Secrets, here's what we have today in the old config:

vault:
  address: https://vault.internal:8200
  token: ${s('vault-token', f.vault())}
databricks_host: https://adb-1234567890123456.7.azuredatabricks.net
databricks_token: ${s('databricks-token', f.databricks())}
DIGITALOCEAN_ACCESS_TOKEN=${s('digitalocean-token', f.digitalocean())}
TWILIO_API_KEY=${s('twilio-key', f.twilioKey())}
SHOPIFY_ADMIN_TOKEN=${s('shopify-token', f.shopify())}
`,
    ],
    [
      '20-aws-redacted-id.txt',
      t`I already redacted the key id, is it safe to paste this in the ticket?

AWS_ACCESS_KEY_ID=[REDACTED]
AWS_SECRET_ACCESS_KEY=${s('aws-secret-access-key', f.awsSecretAccessKey())}
AWS_DEFAULT_REGION=us-east-1
`,
    ],
    [
      '21-rsa-and-pkcs8.txt',
      t`cert-manager refuses my CA issuer key. Tried both formats:

${s('private-key-rsa', f.rsaKey())}

${s('private-key-pkcs8', f.pkcs8Key())}`,
    ],
    [
      '22-sa-token.txt',
      t`the agent uses this token to talk to the API server and gets 403 on deployments, which RBAC is missing?

TOKEN=${s('k8s-sa-token', f.saToken('agents', 'remediator'))}
kubectl --token "$TOKEN" auth can-i patch deployments -n shop`,
    ],
    [
      '23-git-credentials.txt',
      t`git push asks for a password every time, ~/.git-credentials has:

https://octo-deployer:${s('github-token', f.githubFineGrained())}@github.com
https://oauth2:${s('gitlab-token', f.gitlabPat())}@gitlab.example.com
`,
    ],
    [
      '24-mixed-chat.txt',
      t`Quick one: the staging stripe key is ${s('stripe-key', f.stripeTest())} and prod restricted key is ${s('stripe-key', f.stripeRestricted())}; the mongo uri is mongodb+srv://app:${s('db-url-password', f.strongPassword())}@cluster0.abcde.mongodb.net/app and the admin password is ${s('password-assignment', f.password())} — can you wire them into the chart as Secrets?`,
    ],
  ];
}
