/**
 * Node identity (rule L6): a client's verified certificate decides which node ids it may claim, so that a client
 * with a certificate for one workload cannot ask for (or see the status of) another's configuration. The
 * certificate names the caller by a SPIFFE URI SAN (`spiffe://TRUST_DOMAIN/ns/NS/sa/SA`) or DNS SANs; grants map
 * those to node ids, and Istio's rule lets a SPIFFE ID claim the Istio node ids (`sidecar~IP~POD.NS~NS.svc.…`) of
 * its own namespace. The check is an {@link Authorize} step, composed before the application's own, so it runs
 * wherever authorization runs: discovery streams, Fetch, REST and CSDS. A refusal is PERMISSION_DENIED naming the
 * certificate identity and the node it claimed.
 */
import type { Node } from '@xds/api';
import { Code, XdsError } from '@xds/api';
import type { Authorize, ServerCall } from './stream-context.js';

/** A SPIFFE ID, split. */
export interface SpiffeId {
  /** The whole ID, `spiffe://example.org/ns/default/sa/web`. */
  readonly uri: string;
  readonly trustDomain: string;
  /** The path segments (`['ns', 'default', 'sa', 'web']`). */
  readonly segments: readonly string[];
  /** The namespace of an Istio-style ID (`/ns/NS/sa/SA`); undefined for other paths. */
  readonly namespace: string | undefined;
  /** The service account of an Istio-style ID. */
  readonly serviceAccount: string | undefined;
}

/** Who a verified client certificate says the caller is. */
export interface PeerIdentity {
  /** The certificate's SPIFFE ID (its one `spiffe://` URI SAN), if it has one. */
  readonly spiffe: SpiffeId | undefined;
  /** Every URI SAN. */
  readonly uris: readonly string[];
  /** Every DNS SAN. */
  readonly dnsNames: readonly string[];
  /** The subject's common name, if any (shown in messages; never used to grant anything). */
  readonly commonName: string | undefined;
  /**
   * Set when the certificate's SANs were not read (longer than 16 KiB of text, or not in the form Node writes):
   * why. Such an identity has no SPIFFE ID, URI or DNS name, so it grants nothing (rule L6): a list cut short, or
   * parsed up to a malformed value, could otherwise drop a second SPIFFE ID or shorten a name into one that matches.
   */
  readonly unreadable?: string;
}

/** One grant: a certificate identity and the node ids it may claim. */
export interface IdentityGrant {
  /** A SPIFFE ID or DNS name the certificate carries; `*` matches any run of characters (no other syntax). */
  readonly identity: string;
  /**
   * Node ids the identity may claim; `*` matches any run of characters, and `{ns}`, `{sa}` and `{td}` stand for
   * the namespace, service account and trust domain of the certificate's SPIFFE ID.
   */
  readonly nodes: readonly string[];
}

/** Options of {@link nodeIdentityCheck} (`XdsServerOptions.nodeIdentity`). */
export interface NodeIdentityOptions {
  /** SPIFFE trust domains whose IDs count; a SPIFFE ID of any other domain grants nothing. Default: any. */
  readonly trustDomains?: readonly string[];
  /**
   * Istio's rule: a SPIFFE ID `spiffe://TD/ns/NS/sa/SA` may claim an Istio node id (`TYPE~IP~POD.NS~NS.svc.…`)
   * whose namespace is NS (node metadata `NAMESPACE`, when present, must agree). Default true.
   */
  readonly istio?: boolean;
  /** Explicit grants, checked besides Istio's rule. */
  readonly grants?: readonly IdentityGrant[];
}

/** The longest SAN list, node id or pattern looked at, in characters; longer ones grant nothing (never cut). */
const maxText = 16 * 1024;

/**
 * Splits Node's `subjectaltname` text (`DNS:a.example, URI:spiffe://td/ns/x/sa/y, IP Address:127.0.0.1`), in
 * which a value with a comma, quote or other special character comes JSON-quoted (`DNS:"a,b"`). Undefined when
 * the text is not in that form (an unterminated or invalid quoted value, an entry without a type): a caller must
 * then trust none of it, since the entries after the fault are unknown.
 */
export function parseSubjectAltNames(text: string): { type: string; value: string }[] | undefined {
  const out: { type: string; value: string }[] = [];
  let at = 0;
  while (at < text.length) {
    const colon = text.indexOf(':', at);
    if (colon < 0) return undefined;
    const type = text.slice(at, colon);
    let value: string;
    let end: number;
    if (text[colon + 1] === '"') {
      end = colon + 2;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      end += 1;
      if (end > text.length) return undefined;
      try {
        value = JSON.parse(text.slice(colon + 1, end)) as string;
      } catch {
        return undefined;
      }
      if (typeof value !== 'string') return undefined;
    } else {
      end = text.indexOf(', ', colon + 1);
      if (end < 0) end = text.length;
      value = text.slice(colon + 1, end);
    }
    out.push({ type, value });
    if (end === text.length) break;
    if (!text.startsWith(', ', end)) return undefined;
    at = end + 2;
  }
  return out;
}

const segmentChars = /^[A-Za-z0-9._-]+$/;

/** Parses a SPIFFE ID (`spiffe://TRUST_DOMAIN/PATH`); undefined when it is not a valid one. */
export function parseSpiffeId(uri: string): SpiffeId | undefined {
  if (uri.length > 2048 || !uri.startsWith('spiffe://')) return undefined;
  const rest = uri.slice('spiffe://'.length);
  const slash = rest.indexOf('/');
  const trustDomain = slash < 0 ? rest : rest.slice(0, slash);
  if (!/^[a-z0-9._-]+$/.test(trustDomain)) return undefined;
  const segments = slash < 0 ? [] : rest.slice(slash + 1).split('/');
  if (segments.some((s) => !segmentChars.test(s) || s === '.' || s === '..')) return undefined;
  const istio = segments.length === 4 && segments[0] === 'ns' && segments[2] === 'sa';
  return {
    uri,
    trustDomain,
    segments,
    namespace: istio ? segments[1] : undefined,
    serviceAccount: istio ? segments[3] : undefined,
  };
}

/**
 * The identity of a call's verified client certificate; undefined without one (plaintext, TLS without a client
 * certificate, a certificate that did not verify, or REST).
 */
export function peerIdentityOf(call: ServerCall | undefined): PeerIdentity | undefined {
  if (call === undefined || typeof call.getAuthContext !== 'function') return undefined;
  const certificate = call.getAuthContext().sslPeerCertificate;
  if (certificate === undefined) return undefined;
  const text = certificate.subjectaltname ?? '';
  const cn = certificate.subject?.CN;
  const commonName = Array.isArray(cn) ? cn.join(',') : cn;
  const sans = text.length > maxText ? undefined : parseSubjectAltNames(text);
  if (sans === undefined) {
    const unreadable =
      text.length > maxText
        ? `its subject alternative names are ${text.length} characters, over ${maxText}`
        : 'its subject alternative names could not be read';
    return { spiffe: undefined, uris: [], dnsNames: [], commonName, unreadable };
  }
  const uris = sans.filter((s) => s.type === 'URI').map((s) => s.value);
  const spiffeIds = uris.filter((u) => u.startsWith('spiffe://'));
  return {
    // An SVID carries exactly one SPIFFE ID; with more, none is trusted.
    spiffe: spiffeIds.length === 1 ? parseSpiffeId(spiffeIds[0] ?? '') : undefined,
    uris,
    dnsNames: sans.filter((s) => s.type === 'DNS').map((s) => s.value),
    commonName,
  };
}

/** How an identity shows in messages: its SPIFFE ID, else its DNS names, else its subject. */
export function describeIdentity(identity: PeerIdentity): string {
  if (identity.unreadable !== undefined)
    return `CN=${identity.commonName ?? '(none)'} (no name trusted: ${identity.unreadable})`;
  if (identity.spiffe !== undefined) return identity.spiffe.uri;
  if (identity.dnsNames.length > 0) return identity.dnsNames.map((d) => `DNS:${d}`).join(', ');
  if (identity.uris.length > 0) return identity.uris.map((u) => `URI:${u}`).join(', ');
  return `CN=${identity.commonName ?? '(none)'}`;
}

/** `*` matches any run of characters; everything else is literal. Linear-time in practice (greedy backtrack once). */
export function matchesWildcard(pattern: string, text: string): boolean {
  if (pattern.length > maxText || text.length > maxText) return false;
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === text[t]) {
      p += 1;
      t += 1;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p;
      mark = t;
      p += 1;
    } else if (star >= 0) {
      p = star + 1;
      mark += 1;
      t = mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p += 1;
  return p === pattern.length;
}

/** The namespace an Istio node id (`TYPE~IP~POD.NS~NS.svc.DOMAIN`) claims; a string explaining why not, else. */
export function istioNodeNamespace(node: Node): { namespace: string } | string {
  const parts = node.id.split('~');
  if (parts.length !== 4)
    return 'the node id is not an Istio node id (TYPE~IP~POD.NAMESPACE~NAMESPACE.svc.DOMAIN)';
  const pod = parts[2] ?? '';
  const dot = pod.lastIndexOf('.');
  const namespace = dot < 0 ? '' : pod.slice(dot + 1);
  if (namespace === '') return `the node id names no namespace in "${pod}" (POD.NAMESPACE)`;
  const domain = (parts[3] ?? '').split('.')[0];
  if (domain !== '' && domain !== namespace)
    return `the node id names two namespaces, "${namespace}" and "${domain}"`;
  const meta = node.metadata?.['NAMESPACE'];
  if (typeof meta === 'string' && meta !== namespace)
    return `node metadata NAMESPACE "${meta}" disagrees with the node id's "${namespace}"`;
  return { namespace };
}

function display(text: string): string {
  return text.length > 256 ? `${text.slice(0, 256)}… [${text.length} characters]` : text;
}

function expand(pattern: string, spiffe: SpiffeId | undefined): string | undefined {
  if (!/\{(ns|sa|td)\}/.test(pattern)) return pattern;
  if (spiffe === undefined) return undefined;
  const values: Record<string, string | undefined> = {
    ns: spiffe.namespace,
    sa: spiffe.serviceAccount,
    td: spiffe.trustDomain,
  };
  let missing = false;
  const out = pattern.replace(/\{(ns|sa|td)\}/g, (_all, key: string) => {
    const value = values[key];
    if (value === undefined) missing = true;
    return value ?? '';
  });
  return missing ? undefined : out;
}

/** Why `identity` may not claim `node`, or undefined when it may. */
function refusal(options: NodeIdentityOptions, identity: PeerIdentity, node: Node): string | undefined {
  if (identity.unreadable !== undefined)
    return `${identity.unreadable}, and a certificate whose names cannot all be read grants nothing`;
  const domains = options.trustDomains;
  const spiffe =
    identity.spiffe !== undefined &&
    (domains === undefined || domains.length === 0 || domains.includes(identity.spiffe.trustDomain))
      ? identity.spiffe
      : undefined;
  const names = [...(spiffe === undefined ? [] : [spiffe.uri]), ...identity.dnsNames];
  for (const grant of options.grants ?? []) {
    if (!names.some((name) => matchesWildcard(grant.identity, name))) continue;
    for (const pattern of grant.nodes) {
      const expanded = expand(pattern, spiffe);
      if (expanded !== undefined && matchesWildcard(expanded, node.id)) return undefined;
    }
  }
  const reasons: string[] = [];
  if (identity.spiffe !== undefined && spiffe === undefined)
    reasons.push(`trust domain "${identity.spiffe.trustDomain}" is not one of ${domains?.join(', ')}`);
  if (options.istio ?? true) {
    if (spiffe?.namespace === undefined) {
      if (identity.spiffe === undefined || spiffe !== undefined)
        reasons.push('the certificate has no SPIFFE ID spiffe://TRUST_DOMAIN/ns/NAMESPACE/sa/ACCOUNT');
    } else {
      const claimed = istioNodeNamespace(node);
      if (typeof claimed === 'string') reasons.push(claimed);
      else if (claimed.namespace === spiffe.namespace) return undefined;
      else
        reasons.push(
          `the node's namespace is "${claimed.namespace}", the certificate's is "${spiffe.namespace}"`,
        );
    }
  }
  if ((options.grants ?? []).length > 0) reasons.push('no grant gives it this node id');
  return reasons.join('; ') || 'nothing grants it a node id';
}

/**
 * An authorization step that binds the client certificate to the node: it throws PERMISSION_DENIED (naming the
 * certificate identity and the claimed node) unless the call's verified certificate may claim the node's id.
 * A call without a verified client certificate (plaintext, REST) is refused too.
 */
export function nodeIdentityCheck(options: NodeIdentityOptions): Authorize {
  for (const grant of options.grants ?? []) {
    if (typeof grant.identity !== 'string' || grant.identity === '' || !Array.isArray(grant.nodes))
      throw new XdsError(Code.InvalidArgument, 'a node identity grant needs an identity and a list of nodes');
  }
  return (node, call) => {
    const identity = peerIdentityOf(call);
    if (identity === undefined)
      throw new XdsError(
        Code.PermissionDenied,
        `node "${display(node.id)}" presented no verified client certificate; node identity needs mutual TLS`,
      );
    const why = refusal(options, identity, node);
    if (why !== undefined)
      throw new XdsError(
        Code.PermissionDenied,
        `certificate identity ${display(describeIdentity(identity))} may not claim node "${display(node.id)}": ${why}`,
      );
    if (call !== undefined) verifiedNodes.set(call, node.id);
    return true;
  };
}

/** The node id each call's verified certificate was found to hold (by {@link nodeIdentityCheck}). */
const verifiedNodes = new WeakMap<object, string>();

/**
 * True when {@link nodeIdentityCheck} found `call`'s verified client certificate allowed to claim `nodeId`: the
 * node id is then bound to who the caller is, and limits may count it by node id alone (finding Q10).
 */
export function nodeIdVerified(call: ServerCall | undefined, nodeId: string): boolean {
  return call !== undefined && verifiedNodes.get(call) === nodeId;
}

/** Runs authorization steps in order: the first that refuses (false, or a thrown error) decides. */
export function composeAuthorize(...steps: (Authorize | undefined)[]): Authorize | undefined {
  const list = steps.filter((step): step is Authorize => step !== undefined);
  if (list.length <= 1) return list[0];
  return (node, call) => {
    const run = (index: number): boolean | Promise<boolean> => {
      for (let i = index; i < list.length; i++) {
        const verdict = list[i]!(node, call);
        if (verdict === false) return false;
        if (verdict !== true) return verdict.then((ok) => (ok ? run(i + 1) : false));
      }
      return true;
    };
    return run(0);
  };
}
