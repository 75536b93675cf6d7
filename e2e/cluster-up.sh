#!/usr/bin/env bash
# make cluster-up: a local control plane for development and the e2e suite.
#
# kine (etcd API on sqlite) and kube-apiserver, with generated certificates,
# service-account signing keys, belay's authorization webhook ahead of Node and
# RBAC (--authorization-config), and client certificates for the test
# identities; then kube-controller-manager and kube-scheduler (same release),
# and kwok playing the kubelet of three simulated nodes (kwok-node-0..2), so
# that Deployments roll out, Jobs complete and pods become Running and Ready —
# or fail on purpose (e2e/controlplane/kwok.yaml). Everything binds to
# 127.0.0.1.
#
# Writes .cluster/kubeconfig (contexts: admin, agent, alice, bob, carol, belay)
# and .cluster/belay.kubeconfig (the gateway's own identity), then waits until
# the API server is ready, the controller-manager, scheduler and kwok answer
# /healthz, the nodes are Ready and the default service account exists.
# Idempotent: a cluster that is already up is reused. The API server presents
# client certificates to belay's webhooks (CNs kube-apiserver-webhook-client
# and kube-apiserver-authz-client, from .cluster/pki/ca.crt), so the gateway
# can insist on them.
#
# The humans also have bearer tokens (--token-auth-file), one file each in
# .cluster/tokens/<name> (alice, carol, bob, and approver-bot: an agent by
# group that also holds the approver group), for clients that take a token
# rather than a client certificate — the approvals console, which asks the
# API server who a token is (TokenReview) and then acts with that token.
#
# Environment (defaults):
#   BELAY_APISERVER_PORT=6443   kube-apiserver secure port on 127.0.0.1
#   BELAY_KINE_PORT=12379       kine (etcd API) on 127.0.0.1
#   BELAY_GATEWAY_PORT=8443     where the authorization webhook is called
#   BELAY_CONTROLLER_MANAGER_PORT=10257  kube-controller-manager's /healthz (https)
#   BELAY_SCHEDULER_PORT=10259  kube-scheduler's /healthz (https)
#   BELAY_KWOK_PORT=10247       kwok's server: /healthz and the simulated
#                               nodes' kubelet endpoint (https)
#   BELAY_CLUSTER_DIR=.cluster  state: pki, sqlite db, logs, kubeconfigs
#   BELAY_TLS_DIR=.belay/tls    the gateway's dev TLS (created here if absent)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
state=${BELAY_CLUSTER_DIR:-$root/.cluster}
tls_dir=${BELAY_TLS_DIR:-$root/.belay/tls}
bin=$root/.tools/bin
api_port=${BELAY_APISERVER_PORT:-6443}
kine_port=${BELAY_KINE_PORT:-12379}
gw_port=${BELAY_GATEWAY_PORT:-8443}
kcm_port=${BELAY_CONTROLLER_MANAGER_PORT:-10257}
sched_port=${BELAY_SCHEDULER_PORT:-10259}
kwok_port=${BELAY_KWOK_PORT:-10247}
pki=$state/pki
logs=$state/logs
server=https://127.0.0.1:$api_port

t0=$(date +%s.%N)
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
log() { echo "cluster-up: $*" >&2; }
die() { log "error: $*"; exit 1; }

# Is the process in pid file $1 alive and running binary $2?
alive() {
  local pid
  pid=$(cat "$state/$1.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "$2"
}

ready() {
  curl -sf --max-time 2 --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
    "$server/readyz" >/dev/null 2>&1
}

# healthy PORT: a component's /healthz on 127.0.0.1 (serving cert from our CA).
healthy() {
  curl -sf --max-time 2 --cacert "$pki/ca.crt" "https://127.0.0.1:$1/healthz" >/dev/null 2>&1
}

components="kine kube-apiserver kube-controller-manager kube-scheduler kwok"
all_alive() {
  local c
  for c in $components; do alive "$c" "$c" || return 1; done
}

if all_alive && ready; then
  log "already up at $server (kubeconfig $state/kubeconfig)"
  exit 0
fi
for c in $components; do
  if [ -e "$state/$c.pid" ]; then
    log "stale or half-started cluster found; stopping it first"
    "$root/e2e/cluster-down.sh"
    break
  fi
done

for port in "$api_port" "$kine_port" "$kcm_port" "$sched_port" "$kwok_port"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "127.0.0.1:$port is already in use by another process"
  fi
done

"$root/e2e/controlplane/build.sh"

mkdir -p "$pki" "$logs" "$state/db"

# --- certificates -----------------------------------------------------------
# One CA for the cluster (serving cert and client certs). The gateway's dev CA
# is separate (.belay/tls) and is what the API server trusts when it calls
# belay.

ecparams() { echo "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1"; }

# issue NAME SUBJECT EXTENDED_USAGE [SANS]
issue() {
  local name=$1 subj=$2 eku=$3 sans=${4:-}
  [ -s "$pki/$name.crt" ] && return
  # shellcheck disable=SC2046
  openssl req -new $(ecparams) -nodes -keyout "$pki/$name.key" -out "$pki/$name.csr" \
    -subj "$subj" 2>/dev/null
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [ -n "$sans" ] && echo "subjectAltName=$sans"
  } > "$pki/$name.ext"
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 825 -extfile "$pki/$name.ext" \
    -out "$pki/$name.crt" 2>/dev/null
  rm -f "$pki/$name.csr" "$pki/$name.ext"
}

if [ ! -s "$pki/ca.crt" ]; then
  # shellcheck disable=SC2046
  openssl req -x509 $(ecparams) -nodes -keyout "$pki/ca.key" -out "$pki/ca.crt" -days 3650 \
    -subj "/CN=belay-e2e-cluster-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi
issue apiserver "/CN=kube-apiserver" serverAuth \
  "IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
# Identities (client certificates: CN is the user, each O a group).
issue admin "/O=system:masters/CN=belay-e2e-admin" clientAuth
issue alice "/O=belay:approvers/CN=alice" clientAuth
issue carol "/O=belay:approvers/CN=carol" clientAuth
issue bob "/O=belay-e2e:developers/CN=bob" clientAuth
# The gateway runs as its in-cluster identity, so manifests/rbac applies as is
# and the webhooks' not-belay matchConditions are exercised.
issue belay "/O=system:serviceaccounts/O=system:serviceaccounts:belay/CN=system:serviceaccount:belay:belay" clientAuth
# The API server's client certificate when it calls belay's authorization webhook.
issue apiserver-authz-client "/CN=kube-apiserver-authz-client" clientAuth
# The other control-plane components, as the bootstrap RBAC knows them; kwok
# has its own ClusterRole (controlplane/kwok-nodes.yaml).
issue kube-controller-manager "/CN=system:kube-controller-manager" clientAuth
issue kube-scheduler "/CN=system:kube-scheduler" clientAuth
issue kwok "/CN=kwok-controller" clientAuth
# Their serving certificate (/healthz; kwok's is also the simulated kubelets').
issue components-serving "/CN=localhost" serverAuth "IP:127.0.0.1,DNS:localhost"
# ... and when it calls belay's admission webhooks (admission-webhooks.kubeconfig below).
issue apiserver-webhook-client "/CN=kube-apiserver-webhook-client" clientAuth

if [ ! -s "$pki/sa.key" ]; then
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
fi

# The gateway's dev TLS. The gateway creates these itself when they are
# absent; creating them first lets the API server's authorization webhook
# kubeconfig carry the CA from the start (it is read once, at start-up).
if [ ! -s "$tls_dir/ca.crt" ] || [ ! -s "$tls_dir/tls.crt" ] || [ ! -s "$tls_dir/tls.key" ]; then
  mkdir -p "$tls_dir"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tls_dir/ca.key" -out "$tls_dir/ca.crt" -days 3650 \
    -subj "/CN=belay-dev-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -new -newkey rsa:2048 -nodes -keyout "$tls_dir/tls.key" -out "$tls_dir/tls.csr" \
    -subj "/CN=localhost" 2>/dev/null
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,IP:127.0.0.1" > "$tls_dir/tls.ext"
  openssl x509 -req -in "$tls_dir/tls.csr" -CA "$tls_dir/ca.crt" -CAkey "$tls_dir/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 825 -extfile "$tls_dir/tls.ext" -out "$tls_dir/tls.crt" 2>/dev/null
  rm -f "$tls_dir/tls.csr" "$tls_dir/tls.ext"
  chmod 600 "$tls_dir"/*.key
  log "created the gateway's dev TLS in $tls_dir"
fi
chmod 600 "$pki"/*.key

# --- bearer tokens ------------------------------------------------------------
# The same users and groups as the client certificates. --token-auth-file is
# still in v1.36; the alternatives need more: a JWT authenticator
# (--authentication-config) an OIDC issuer, and service-account tokens cannot
# carry belay:approvers. Kept across restarts of the same state dir, since the
# API server reads the CSV once, at start.
mkdir -p "$state/tokens"
chmod 700 "$state/tokens"
token_line() { # NAME GROUPS (comma-separated)
  local f="$state/tokens/$1"
  if [ ! -s "$f" ]; then
    (umask 077 && openssl rand -hex 24 > "$f")
  fi
  printf '%s,%s,%s,"%s"\n' "$(cat "$f")" "$1" "e2e-token-$1" "$2"
}
{
  token_line alice belay:approvers
  token_line carol belay:approvers
  token_line bob belay-e2e:developers
  # An agent (by group, as data.belay.config.agents says) that also holds the approver group.
  token_line approver-bot "belay:agents,belay:approvers"
} > "$state/tokens.csv.tmp"
chmod 600 "$state/tokens.csv.tmp"
mv "$state/tokens.csv.tmp" "$state/tokens.csv"

b64() { base64 -w0 < "$1"; }

# --- kubeconfigs --------------------------------------------------------------
user_entry() { # NAME CERTNAME [IMPERSONATE]
  cat <<EOF
  - name: $1
    user:
      client-certificate-data: $(b64 "$pki/$2.crt")
      client-key-data: $(b64 "$pki/$2.key")
EOF
  [ -n "${3:-}" ] && echo "      as: $3"
  return 0
}
context_entry() { # NAME
  cat <<EOF
  - name: $1
    context:
      cluster: belay-e2e
      user: $1
EOF
}
cluster_entry() {
  cat <<EOF
clusters:
  - name: belay-e2e
    cluster:
      server: $server
      certificate-authority-data: $(b64 "$pki/ca.crt")
EOF
}

{
  echo "apiVersion: v1"
  echo "kind: Config"
  cluster_entry
  echo "users:"
  user_entry admin admin
  # The agent: admin impersonating the service account (kubectl --as works the
  # same); the API server adds system:serviceaccounts and
  # system:serviceaccounts:agents.
  user_entry agent admin system:serviceaccount:agents:remediator
  user_entry alice alice
  user_entry bob bob
  user_entry carol carol
  user_entry belay belay
  echo "contexts:"
  for c in admin agent alice bob carol belay; do context_entry "$c"; done
  echo "current-context: admin"
} > "$state/kubeconfig.tmp"
chmod 600 "$state/kubeconfig.tmp"

# A kubeconfig of one identity (certificate NAME): NAME.kubeconfig.
single_kubeconfig() { # NAME
  {
    echo "apiVersion: v1"
    echo "kind: Config"
    cluster_entry
    echo "users:"
    user_entry "$1" "$1"
    echo "contexts:"
    context_entry "$1"
    echo "current-context: $1"
  } > "$state/$1.kubeconfig"
  chmod 600 "$state/$1.kubeconfig"
}
# The gateway's, and one each for the controller-manager, the scheduler and kwok.
for c in belay kube-controller-manager kube-scheduler kwok; do single_kubeconfig "$c"; done

cat > "$state/kube-scheduler.yaml" <<EOF
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: $state/kube-scheduler.kubeconfig
leaderElection:
  leaderElect: false
enableProfiling: false
EOF

# The API server's connection to belay's authorization webhook.
cat > "$state/authorization-webhook.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: belay
    cluster:
      server: https://127.0.0.1:$gw_port/authorize
      certificate-authority-data: $(b64 "$tls_dir/ca.crt")
users:
  - name: kube-apiserver
    user:
      client-certificate-data: $(b64 "$pki/apiserver-authz-client.crt")
      client-key-data: $(b64 "$pki/apiserver-authz-client.key")
contexts:
  - name: belay
    context:
      cluster: belay
      user: kube-apiserver
current-context: belay
EOF

# manifests/authorization/authorization-config.yaml, with the kubeconfig path
# of this cluster; nothing else changes.
src_authz=$root/manifests/authorization/authorization-config.yaml
grep -q 'kubeConfigFile:' "$src_authz" || die "no kubeConfigFile in $src_authz"
sed "s#kubeConfigFile: .*#kubeConfigFile: $state/authorization-webhook.kubeconfig#" "$src_authz" \
  > "$state/authorization-config.yaml"

# The API server presents a client certificate to every admission webhook
# (kubeconfig user '*': any webhook host), so belay can refuse anyone else
# (the gateway's --webhook-client-ca; e2e/harness/gateway.ts turns it on).
cat > "$state/admission-webhooks.kubeconfig" <<EOF
apiVersion: v1
kind: Config
users:
  - name: '*'
    user:
      client-certificate-data: $(b64 "$pki/apiserver-webhook-client.crt")
      client-key-data: $(b64 "$pki/apiserver-webhook-client.key")
EOF
cat > "$state/admission-config.yaml" <<EOF
apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
  - name: ValidatingAdmissionWebhook
    configuration:
      apiVersion: apiserver.config.k8s.io/v1
      kind: WebhookAdmissionConfiguration
      kubeConfigFile: $state/admission-webhooks.kubeconfig
  - name: MutatingAdmissionWebhook
    configuration:
      apiVersion: apiserver.config.k8s.io/v1
      kind: WebhookAdmissionConfiguration
      kubeConfigFile: $state/admission-webhooks.kubeconfig
EOF

# --- kine -----------------------------------------------------------------------
log "starting kine on 127.0.0.1:$kine_port"
setsid "$bin/kine" \
  --listen-address "127.0.0.1:$kine_port" \
  --endpoint "sqlite://$state/db/state.db?_journal=WAL&cache=shared&_busy_timeout=30000&_txlock=immediate" \
  --metrics-bind-address 0 \
  > "$logs/kine.log" 2>&1 < /dev/null &
echo $! > "$state/kine.pid"

for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$kine_port") 2>/dev/null && break
  alive kine kine || { tail -20 "$logs/kine.log" >&2; die "kine exited"; }
  sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$kine_port") 2>/dev/null || die "kine did not listen within 10s (see $logs/kine.log)"
log "kine listening after $(elapsed)s"

# --- kube-apiserver ---------------------------------------------------------------
# Flags after envtest's; privileged pods are allowed by the API server so that
# policy, not built-in validation, is what answers them. The default admission
# plugins run (ServiceAccount included: the controller-manager makes each
# namespace's default service account).
log "starting kube-apiserver on $server"
t_api=$(date +%s.%N)
setsid "$bin/kube-apiserver" \
  --bind-address=127.0.0.1 \
  --advertise-address=127.0.0.1 \
  --secure-port="$api_port" \
  --etcd-servers="http://127.0.0.1:$kine_port" \
  --cert-dir="$pki" \
  --tls-cert-file="$pki/apiserver.crt" \
  --tls-private-key-file="$pki/apiserver.key" \
  --client-ca-file="$pki/ca.crt" \
  --token-auth-file="$state/tokens.csv" \
  --service-account-issuer="$server" \
  --service-account-key-file="$pki/sa.pub" \
  --service-account-signing-key-file="$pki/sa.key" \
  --service-cluster-ip-range=10.0.0.0/24 \
  --authorization-config="$state/authorization-config.yaml" \
  --admission-control-config-file="$state/admission-config.yaml" \
  --allow-privileged=true \
  --endpoint-reconciler-type=none \
  --profiling=false \
  --v=1 \
  > "$logs/kube-apiserver.log" 2>&1 < /dev/null &
echo $! > "$state/kube-apiserver.pid"

for _ in $(seq 1 600); do
  ready && break
  alive kube-apiserver kube-apiserver || { tail -30 "$logs/kube-apiserver.log" >&2; die "kube-apiserver exited"; }
  sleep 0.2
done
ready || { tail -30 "$logs/kube-apiserver.log" >&2; die "kube-apiserver not ready within 120s (see $logs/kube-apiserver.log)"; }
api_secs=$(awk -v a="$t_api" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
mv "$state/kubeconfig.tmp" "$state/kubeconfig"
log "kube-apiserver ready after ${api_secs}s"

# --- controller-manager, scheduler, kwok ------------------------------------------
# Each is a client of the API server only. None is an agent, so belay's
# admission webhooks (matchConditions) and its authorization webhook never see
# their requests: a belay outage cannot stop them. The controller-manager and
# the scheduler need only the bootstrap RBAC, so they start at once and get
# ready while the fixtures are applied; kwok starts after its RBAC and nodes.
t_rest=$(date +%s.%N)
log "starting kube-controller-manager, kube-scheduler and kwok"
# Leader election off (one replica). Only the controllers that rollouts, Jobs,
# garbage collection, namespaces, service accounts and nodes need: the
# controller-manager makes a service account and token for each before it
# starts any, which is what its start-up costs. Each controller acts as its own
# service account (system:serviceaccount:kube-system:<name>), as in a real
# cluster, so those are the identities belay's matchConditions must let
# through. The token controller signs with the API server's service-account
# key; kube-root-ca.crt carries the cluster CA.
kcm_controllers=$(printf '%s-controller,' \
  deployment replicaset replicationcontroller statefulset daemonset job cronjob ttl-after-finished \
  disruption garbage-collector namespace serviceaccount serviceaccount-token \
  root-ca-certificate-publisher pod-garbage-collector node-lifecycle taint-eviction \
  endpoints endpointslice resourcequota clusterrole-aggregation)
kcm_controllers=${kcm_controllers%,}
setsid "$bin/kube-controller-manager" \
  --kubeconfig="$state/kube-controller-manager.kubeconfig" \
  --bind-address=127.0.0.1 \
  --secure-port="$kcm_port" \
  --tls-cert-file="$pki/components-serving.crt" \
  --tls-private-key-file="$pki/components-serving.key" \
  --leader-elect=false \
  --use-service-account-credentials=true \
  --service-account-private-key-file="$pki/sa.key" \
  --root-ca-file="$pki/ca.crt" \
  --controllers="$kcm_controllers" \
  --profiling=false \
  --v=1 \
  > "$logs/kube-controller-manager.log" 2>&1 < /dev/null &
echo $! > "$state/kube-controller-manager.pid"

setsid "$bin/kube-scheduler" \
  --config="$state/kube-scheduler.yaml" \
  --bind-address=127.0.0.1 \
  --secure-port="$sched_port" \
  --tls-cert-file="$pki/components-serving.crt" \
  --tls-private-key-file="$pki/components-serving.key" \
  --v=1 \
  > "$logs/kube-scheduler.log" 2>&1 < /dev/null &
echo $! > "$state/kube-scheduler.pid"

# RBAC for the test identities and for kwok, and the simulated nodes.
"$bin/kubectl" --kubeconfig "$state/kubeconfig" --context admin apply \
  -f "$root/e2e/fixtures/identities.yaml" -f "$root/e2e/controlplane/kwok-nodes.yaml" > "$logs/identities.log"

# kwok plays the kubelet of the nodes annotated kwok.x-k8s.io/node=fake, with
# the Stages of controlplane/kwok.yaml. The nodes' address is 127.0.0.1 and
# their kubelet port is kwok's own server, so nothing the API server might
# dial (logs, exec) leaves loopback; pod IPs are only data. HOME is the state
# dir so that no ~/.kwok/kwok.yaml of the machine's is merged in.
mkdir -p "$state/kwok"
HOME="$state/kwok" setsid "$bin/kwok" \
  --config="$root/e2e/controlplane/kwok.yaml" \
  --kubeconfig="$state/kwok.kubeconfig" \
  --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
  --node-ip=127.0.0.1 \
  --node-port="$kwok_port" \
  --server-address="127.0.0.1:$kwok_port" \
  --tls-cert-file="$pki/components-serving.crt" \
  --tls-private-key-file="$pki/components-serving.key" \
  --cidr=10.244.0.1/16 \
  > "$logs/kwok.log" 2>&1 < /dev/null &
echo $! > "$state/kwok.pid"

for _ in $(seq 1 300); do
  healthy "$kcm_port" && healthy "$sched_port" && healthy "$kwok_port" && break
  for c in kube-controller-manager kube-scheduler kwok; do
    alive "$c" "$c" || { tail -30 "$logs/$c.log" >&2; die "$c exited"; }
  done
  sleep 0.1
done
for c in kube-controller-manager:$kcm_port kube-scheduler:$sched_port kwok:$kwok_port; do
  healthy "${c#*:}" || die "${c%%:*} not healthy within 30s (see $logs/${c%%:*}.log)"
done
"$bin/kubectl" --kubeconfig "$state/kubeconfig" --context admin wait --for=condition=Ready \
  node -l type=kwok --timeout=60s > /dev/null \
  || die "the simulated nodes are not Ready within 60s (see $logs/kwok.log)"
# The ServiceAccount admission plugin refuses pods in a namespace whose
# default service account the controller-manager has not made yet.
"$bin/kubectl" --kubeconfig "$state/kubeconfig" --context admin wait --for=create \
  serviceaccount/default -n default --timeout=60s > /dev/null \
  || die "no default service account within 60s (see $logs/kube-controller-manager.log)"
rest_secs=$(awk -v a="$t_rest" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
log "controller-manager, scheduler and kwok healthy, nodes Ready, service accounts made after ${rest_secs}s"

log "up in $(elapsed)s: $server  kubeconfig=$state/kubeconfig  (authorization webhook https://127.0.0.1:$gw_port/authorize)"
