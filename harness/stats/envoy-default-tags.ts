/**
 * Envoy's built-in tag extractors (`stats_config.use_all_default_tags`, on unless set to false):
 * the one list of them in this repository. StatsStore applies them to every stat before the
 * configured `stats_tags`, as Envoy's TagProducerImpl does, so Envoy's own stats get Envoy's
 * labels: `http.edgewatch_ingress.downstream_rq_total` → `envoy_http_downstream_rq_total
 * {envoy_http_conn_manager_prefix="edgewatch_ingress"}`.
 *
 * Facts from Envoy source/common/config/well_known_names.{h,cc} (TagNameValues, Envoy 1.30–1.32):
 * - two kinds of descriptor: RE2 regexes (`addRe2`, with an optional substring that must occur in the
 *   name and an optional "negative" value that is never extracted: `listener.admin.` keeps its name)
 *   and token patterns (`addTokenized`: `.`-separated tokens, `$` = the tag value, `*` = any one
 *   token, `**` = any number of tokens);
 * - TagProducerImpl::addDefaultExtractors adds every RE2 descriptor in list order, then every token
 *   descriptor in list order, then the configured stats_tags;
 * - the placeholders below are expanded in the regexes before compiling (expandRegex).
 * The regexes use only syntax that means the same in RE2 and JavaScript (no lookaround, no
 * backreferences), and RE2::PartialMatch is leftmost-first like a JavaScript search.
 */

/** A tag value: anything but a dot (TAG_VALUE_REGEX). */
const TAG_VALUE = "[^\\.]+";

const PLACEHOLDERS: ReadonlyArray<[string, string]> = [
  // IPv4 or bracketed IPv6 address, then _port.
  ["<ADDRESS>", "(?:(?:\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}|\\[[a-fA-F_\\d]+\\])_\\d+)"],
  ["<CIPHER>", "[\\w-]+"],
  ["<TLS_VERSION>", "TLSv\\d\\.\\d"],
  ["<TAG_VALUE>", TAG_VALUE],
  ["<ROUTE_CONFIG_NAME>", "[\\w\\-\\./]+"],
  ["<SCOPED_ROUTE_CONFIG_NAME>", "[\\w\\-\\.]+"],
  ["<LISTENER_OR_CLUSTER_WITH_NAME>", "(?:listener|cluster)\\..*?"],
  ["<PROXY_PROTOCOL_VERSION>", "\\d"],
];

function expand(regex: string): string {
  let out = regex;
  for (const [k, v] of PLACEHOLDERS) out = out.split(k).join(v);
  return out;
}

/** Envoy's tag names (Config::TagNames). */
export const ENVOY_TAG = {
  CLUSTER_NAME: "envoy.cluster_name",
  LISTENER_ADDRESS: "envoy.listener_address",
  HTTP_CONN_MANAGER_PREFIX: "envoy.http_conn_manager_prefix",
  HTTP_USER_AGENT: "envoy.http_user_agent",
  SSL_CIPHER: "envoy.ssl_cipher",
  SSL_CURVE: "envoy.ssl_curve",
  SSL_SIGALG: "envoy.ssl_sigalg",
  SSL_VERSION: "envoy.ssl_version",
  SSL_CIPHER_SUITE: "cipher_suite",
  CLIENTSSL_PREFIX: "envoy.clientssl_prefix",
  MONGO_PREFIX: "envoy.mongo_prefix",
  MONGO_CMD: "envoy.mongo_cmd",
  MONGO_COLLECTION: "envoy.mongo_collection",
  MONGO_CALLSITE: "envoy.mongo_callsite",
  RATELIMIT_PREFIX: "envoy.ratelimit_prefix",
  LOCAL_HTTP_RATELIMIT_PREFIX: "envoy.local_http_ratelimit_prefix",
  LOCAL_NETWORK_RATELIMIT_PREFIX: "envoy.local_network_ratelimit_prefix",
  LOCAL_LISTENER_RATELIMIT_PREFIX: "envoy.local_listener_ratelimit_prefix",
  DNS_FILTER_PREFIX: "envoy.dns_filter_prefix",
  CONNECTION_LIMIT_PREFIX: "envoy.connection_limit_prefix",
  TCP_PREFIX: "envoy.tcp_prefix",
  UDP_PREFIX: "envoy.udp_prefix",
  FAULT_DOWNSTREAM_CLUSTER: "envoy.fault_downstream_cluster",
  DYNAMO_OPERATION: "envoy.dynamo_operation",
  DYNAMO_TABLE: "envoy.dynamo_table",
  DYNAMO_PARTITION_ID: "envoy.dynamo_partition_id",
  GRPC_BRIDGE_SERVICE: "envoy.grpc_bridge_service",
  GRPC_BRIDGE_METHOD: "envoy.grpc_bridge_method",
  VIRTUAL_HOST: "envoy.virtual_host",
  VIRTUAL_CLUSTER: "envoy.virtual_cluster",
  RESPONSE_CODE: "envoy.response_code",
  RESPONSE_CODE_CLASS: "envoy.response_code_class",
  ROUTE: "envoy.route",
  RDS_ROUTE_CONFIG: "envoy.rds_route_config",
  SCOPED_RDS_CONFIG: "envoy.scoped_rds_config",
  WORKER_ID: "envoy.worker_id",
  THRIFT_PREFIX: "envoy.thrift_prefix",
  REDIS_PREFIX: "envoy.redis_prefix",
  RBAC_PREFIX: "envoy.rbac_prefix",
  RBAC_HTTP_PREFIX: "envoy.rbac_http_prefix",
  RBAC_POLICY_NAME: "envoy.rbac_policy_name",
  PROXY_PROTOCOL_PREFIX: "envoy.proxy_protocol_prefix",
  PROXY_PROTOCOL_VERSION: "envoy.proxy_protocol_version",
  GOOGLE_GRPC_CLIENT_PREFIX: "envoy.google_grpc_client_prefix",
  TLS_CERTIFICATE: "envoy.tls_certificate",
  XDS_RESOURCE_NAME: "envoy.xds_resource_name",
  EXT_AUTHZ_PREFIX: "envoy.ext_authz_prefix",
} as const;

export interface RegexDescriptor {
  readonly name: string;
  /** Expanded regex (RE2 syntax that JavaScript reads the same way). */
  readonly regex: string;
  /** The name must contain this to be tried ("" = always). */
  readonly substr: string;
  /** A value that is never extracted as this tag ("" = none). */
  readonly negativeMatch: string;
}

export interface TokenDescriptor {
  readonly name: string;
  readonly pattern: string;
}

const T = ENVOY_TAG;
const re = (name: string, regex: string, substr = "", negativeMatch = ""): RegexDescriptor => ({
  name,
  regex: expand(regex),
  substr,
  negativeMatch,
});

/** TagNameValues' RE2 descriptors, in Envoy's order. */
export const ENVOY_DEFAULT_REGEX_TAGS: readonly RegexDescriptor[] = Object.freeze([
  // *_rq(_<response_code>)
  re(T.RESPONSE_CODE, "_rq(_(\\d{3}))$", "_rq_"),
  // *_rq_(<response_code_class>)xx
  re(T.RESPONSE_CODE_CLASS, "_rq_((\\d))xx$", "_rq_"),
  re(T.DYNAMO_PARTITION_ID, "^http\\.<TAG_VALUE>\\.dynamodb\\.table\\.<TAG_VALUE>\\.capacity\\.<TAG_VALUE>(\\.__partition_id=(\\w{7}))$", ".dynamodb.table."),
  re(T.DYNAMO_OPERATION, "^http\\.<TAG_VALUE>\\.dynamodb.(?:operation|table\\.<TAG_VALUE>\\.capacity)(\\.(<TAG_VALUE>))(?:\\.|$)", ".dynamodb."),
  re(T.DYNAMO_TABLE, "^http\\.<TAG_VALUE>\\.dynamodb.(?:table|error)\\.((<TAG_VALUE>)\\.)", ".dynamodb."),
  re(T.SSL_CIPHER, "^listener\\..*?\\.ssl\\.ciphers(\\.(<CIPHER>))$", ".ssl.ciphers."),
  re(T.SSL_CURVE, "^<LISTENER_OR_CLUSTER_WITH_NAME>\\.ssl\\.curves(\\.(<CIPHER>))$", ".ssl.curves."),
  re(T.SSL_SIGALG, "^<LISTENER_OR_CLUSTER_WITH_NAME>\\.ssl\\.sigalgs(\\.(<CIPHER>))$", ".ssl.sigalgs."),
  re(T.SSL_VERSION, "^<LISTENER_OR_CLUSTER_WITH_NAME>\\.ssl\\.versions(\\.(<TLS_VERSION>))$", ".ssl.versions."),
  re(T.SSL_CIPHER_SUITE, "^cluster\\.<TAG_VALUE>\\.ssl\\.ciphers(\\.(<CIPHER>))$", ".ssl.ciphers."),
  // listener.[<address>.]http.(<stat_prefix>.)*
  re(T.HTTP_CONN_MANAGER_PREFIX, "^listener\\..*?\\.http\\.((<TAG_VALUE>)\\.)", ".http."),
  // listener.<address|stat_prefix>.(worker_<id>.)*, listener_manager.(worker_<id>.)*, server.…, thread_local_cluster_manager.…
  re(T.WORKER_ID, "^(?:listener\\.(?:<ADDRESS>|<TAG_VALUE>)|server|listener_manager|thread_local_cluster_manager)\\.worker_((\\d+)\\.)"),
  // listener.(<address|stat_prefix>.)*, but not the admin listener
  re(T.LISTENER_ADDRESS, "^listener\\.((<ADDRESS>|<TAG_VALUE>)\\.)", "", "admin"),
  re(T.RDS_ROUTE_CONFIG, "^http\\.<TAG_VALUE>\\.rds\\.((<ROUTE_CONFIG_NAME>)\\.)\\w+?$", ".rds."),
  re(T.SCOPED_RDS_CONFIG, "^http\\.<TAG_VALUE>\\.scoped_rds\\.((<SCOPED_ROUTE_CONFIG_NAME>)\\.)\\w+?$", ".scoped_rds."),
  re(T.RBAC_POLICY_NAME, "^http\\.<TAG_VALUE>\\.rbac\\.(?:<TAG_VALUE>\\.)?policy\\.((<TAG_VALUE>)\\.)(allowed|shadow_allowed|denied|shadow_denied)$"),
  re(T.RBAC_HTTP_PREFIX, "^http\\.<TAG_VALUE>\\.rbac\\.((<TAG_VALUE>)\\.).*?", "", "policy"),
  re(T.PROXY_PROTOCOL_PREFIX, "^proxy_proto\\.((<TAG_VALUE>)\\.).+$", "", "versions"),
  re(T.PROXY_PROTOCOL_VERSION, "^proxy_proto\\.((?:<TAG_VALUE>\\.)?versions\\.v(<PROXY_PROTOCOL_VERSION>)\\.)\\w+$"),
  re(T.TLS_CERTIFICATE, "^<LISTENER_OR_CLUSTER_WITH_NAME>\\.ssl\\.certificate\\.((<TAG_VALUE>)\\.).*$", ".ssl.certificate"),
  re(T.XDS_RESOURCE_NAME, "^sds\\.((<TAG_VALUE>)\\.).+"),
]);

/** TagNameValues' token descriptors, in Envoy's order. */
export const ENVOY_DEFAULT_TOKEN_TAGS: readonly TokenDescriptor[] = Object.freeze([
  { name: T.MONGO_CALLSITE, pattern: "mongo.*.collection.*.callsite.$.query.**" },
  { name: T.MONGO_COLLECTION, pattern: "mongo.*.collection.$.**.query.*" },
  { name: T.MONGO_CMD, pattern: "mongo.*.cmd.$.**" },
  { name: T.GRPC_BRIDGE_METHOD, pattern: "cluster.*.grpc.*.$.**" },
  { name: T.HTTP_USER_AGENT, pattern: "http.*.user_agent.$.**" },
  { name: T.VIRTUAL_CLUSTER, pattern: "vhost.*.vcluster.$.**" },
  { name: T.FAULT_DOWNSTREAM_CLUSTER, pattern: "http.*.fault.$.**" },
  { name: T.GRPC_BRIDGE_SERVICE, pattern: "cluster.*.grpc.$.**" },
  { name: T.TCP_PREFIX, pattern: "tcp.$.**" },
  { name: T.UDP_PREFIX, pattern: "udp.$.**" },
  { name: T.CLIENTSSL_PREFIX, pattern: "auth.clientssl.$.**" },
  { name: T.RATELIMIT_PREFIX, pattern: "ratelimit.$.**" },
  { name: T.CLUSTER_NAME, pattern: "cluster.$.**" },
  { name: T.EXT_AUTHZ_PREFIX, pattern: "cluster.*.ext_authz.$.**" },
  { name: T.EXT_AUTHZ_PREFIX, pattern: "http.*.ext_authz.$.**" },
  { name: T.HTTP_CONN_MANAGER_PREFIX, pattern: "http.$.**" },
  { name: T.VIRTUAL_HOST, pattern: "vhost.$.**" },
  { name: T.MONGO_PREFIX, pattern: "mongo.$.**" },
  { name: T.ROUTE, pattern: "vhost.*.route.$.**" },
  { name: T.THRIFT_PREFIX, pattern: "thrift.$.**" },
  { name: T.REDIS_PREFIX, pattern: "redis.$.**" },
  { name: T.LOCAL_HTTP_RATELIMIT_PREFIX, pattern: "$.http_local_rate_limit.**" },
  { name: T.LOCAL_NETWORK_RATELIMIT_PREFIX, pattern: "local_rate_limit.$.**" },
  { name: T.LOCAL_LISTENER_RATELIMIT_PREFIX, pattern: "listener_local_ratelimit.$.**" },
  { name: T.DNS_FILTER_PREFIX, pattern: "dns_filter.$.**" },
  { name: T.CONNECTION_LIMIT_PREFIX, pattern: "connection_limit.$.**" },
  { name: T.RBAC_PREFIX, pattern: "$.rbac.**" },
  { name: T.GOOGLE_GRPC_CLIENT_PREFIX, pattern: "grpc.$.**" },
]);
