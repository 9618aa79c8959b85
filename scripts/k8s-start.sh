#!/bin/sh
# Entry point of a RaftKv pod (k8s/statefulset.yaml; copied to /app/k8s-start.sh by the Dockerfile):
# derives the node's identity from the pod, chooses INITIAL_CLUSTER_STATE, then runs its arguments (the server).
#
# - NODE_ID = the pod's ordinal + 1 (raftkv-0 -> 1); ADVERTISE_HOST = the pod's stable DNS name under the headless
#   service raftkv-peers.
# - A pod whose data directory is empty (the StatefulSet's first start, or a lost or replaced volume) starts as
#   INITIAL_CLUSTER_STATE=existing when another member of PEERS answers /health/ready (it knows a leader and a
#   quorum): the empty pod then waits for that leader to replicate to it and never starts an election, so wiped
#   pods can never elect a leader of a second, empty cluster (docs/operations.md, "Deployment"). When no other
#   member answers (every pod starts empty at once: the first start), it starts as `new`. A data directory that
#   holds a log ignores the setting; an INITIAL_CLUSTER_STATE set in the pod's environment is kept as given.
# Probes use the client HTTP port ($HTTP_PORT) of each peer's host; with TLS_CERT_FILE set they use https with
# TLS_CA_FILE (and the node's own certificate when CLIENT_CERT_AUTH=true).
set -eu

if [ "$#" -eq 0 ]; then
  echo "usage: k8s-start.sh <command> [args...]   (e.g. dotnet /app/raftkv.dll)" >&2
  exit 2
fi

ordinal=${HOSTNAME##*-}
case "$ordinal" in
  ''|*[!0-9]*) echo "k8s-start.sh: HOSTNAME '$HOSTNAME' does not end in a StatefulSet ordinal (name-N)" >&2; exit 2 ;;
esac
NODE_ID=$((ordinal + 1))
ADVERTISE_HOST=${HOSTNAME}.raftkv-peers.${POD_NAMESPACE:-default}.svc.cluster.local
export NODE_ID ADVERTISE_HOST

data=${DATA_DIR:-/var/lib/raftkv}
# Empty: nothing but lost+found and the files a start makes before any data (LOCK, archive-id), so a pod whose
# first start on a replaced volume failed early is still treated as empty.
if [ -z "${INITIAL_CLUSTER_STATE:-}" ] && [ -z "$(ls -A "$data" 2>/dev/null | grep -v -E '^(lost\+found|LOCK|archive-id)$' || true)" ]; then
  scheme=http
  tls=""
  if [ -n "${TLS_CERT_FILE:-}" ]; then
    scheme=https
    if [ -n "${TLS_CA_FILE:-}" ]; then tls="--cacert $TLS_CA_FILE"; else tls="--insecure"; fi
    if [ "${CLIENT_CERT_AUTH:-false}" = "true" ]; then tls="$tls --cert $TLS_CERT_FILE --key ${TLS_KEY_FILE:-}"; fi
  fi
  state=new
  for peer in $(echo "${PEERS:-}" | tr ',' ' '); do
    id=${peer%%=*}
    address=${peer#*=}
    host=${address%:*}
    [ "$id" = "$NODE_ID" ] && continue
    # shellcheck disable=SC2086 # $tls holds several curl options
    if curl -fsS -m 3 -o /dev/null $tls "$scheme://$host:${HTTP_PORT:-8080}/health/ready" 2>/dev/null; then
      state=existing
      echo "k8s-start.sh: empty data directory and member $id ($host) is ready: INITIAL_CLUSTER_STATE=existing" >&2
      break
    fi
  done
  [ "$state" = new ] && echo "k8s-start.sh: empty data directory and no other member ready: INITIAL_CLUSTER_STATE=new" >&2
  INITIAL_CLUSTER_STATE=$state
  export INITIAL_CLUSTER_STATE
fi

exec "$@"
