// Validates rendered Kubernetes manifests (the output of `kubectl kustomize`), three ways:
//  1. schema: every object against the Kubernetes API's OpenAPI schema for its apiVersion/kind, with the validators
//     that the kubernetes-models package compiles from that schema (ajv): types, required fields, enums, formats;
//  2. strict fields: no field the API does not know (a typo such as `resource:` is silently dropped by the API server
//     and by the schema check above). TypeScript's excess-property check against the same package's type
//     definitions finds them, with the field's full path;
//  3. with --policy, Farm's own rules (issue 7, Security): the gateway is cluster-internal, the token comes from a
//     Secret, silo pods carry what Orleans' Kubernetes hosting reads, containers run as non-root with limits.
// Usage: node validate.mjs [--policy] rendered.yaml...   Exit status 1 when anything is wrong, naming file and path.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import YAML from "yaml";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

const args = process.argv.slice(2);
const policy = args.includes("--policy");
const files = args.filter((a) => a !== "--policy");
if (files.length === 0) {
  console.error("usage: node validate.mjs [--policy] rendered.yaml...");
  process.exit(2);
}

const problems = [];
const report = (file, object, where, message) => problems.push(`${file}: ${describe(object)}${where ? ` ${where}` : ""}: ${message}`);
const describe = (o) => `${o?.kind ?? "?"} ${o?.metadata?.name ?? "(no name)"}`;

let objectCount = 0;
const typedByFile = new Map();
for (const file of files) {
  const objects = readObjects(file);
  objectCount += objects.length;
  const typed = [];
  for (const object of objects) {
    const model = loadModel(file, object);
    if (model) {
      validateSchema(file, object, model);
      typed.push(object);
    }
  }
  typedByFile.set(file, typed);
  if (policy) checkFarmPolicy(file, objects);
}
checkUnknownFields(typedByFile);

if (problems.length > 0) {
  for (const p of problems) console.error(`invalid: ${p}`);
  console.error(`validate: ${problems.length} problem(s) in ${files.join(", ")}`);
  process.exit(1);
}
console.log(`validate: ${objectCount} objects valid in ${files.map((f) => path.basename(f)).join(", ")}${policy ? " (schema, strict fields, Farm policy)" : " (schema, strict fields)"}`);

function readObjects(file) {
  const documents = YAML.parseAllDocuments(readFileSync(file, "utf8"));
  const objects = [];
  for (const document of documents) {
    for (const error of document.errors) problems.push(`${file}: YAML: ${error.message}`);
    const value = document.toJS();
    if (value == null) continue;
    if (typeof value !== "object" || Array.isArray(value)) {
      problems.push(`${file}: a document is not a Kubernetes object (a mapping with apiVersion and kind)`);
      continue;
    }
    objects.push(value);
  }
  if (objects.length === 0) problems.push(`${file}: no Kubernetes objects`);
  return objects;
}

// kubernetes-models lays its models out as <group>/<version>/<Kind> ("v1/Service", "apps/v1/Deployment").
function modelPath(object) {
  const { apiVersion, kind } = object;
  if (typeof apiVersion !== "string" || typeof kind !== "string" || !/^[A-Za-z0-9.\/-]+$/.test(apiVersion) || !/^[A-Za-z0-9]+$/.test(kind)) return null;
  return `kubernetes-models/${apiVersion}/${kind}`;
}

function loadModel(file, object) {
  const modulePath = modelPath(object);
  if (!modulePath) {
    report(file, object, "", "apiVersion and kind must be plain strings");
    return null;
  }
  let model;
  try {
    model = require(modulePath)[object.kind];
  } catch {
    model = undefined;
  }
  if (typeof model !== "function") {
    report(file, object, "", `no Kubernetes schema for apiVersion ${object.apiVersion}, kind ${object.kind}`);
    return null;
  }
  if (typeof object.metadata?.name !== "string" || object.metadata.name === "") report(file, object, "/metadata/name", "is required");
  return model;
}

function validateSchema(file, object, Model) {
  try {
    new Model(object).validate();
  } catch (error) {
    const errors = Array.isArray(error?.errors) ? error.errors : null;
    if (!errors) throw error;
    for (const e of errors) {
      const detail = e.params?.missingProperty ? `${e.message} (${e.params.missingProperty})` : e.params?.allowedValues ? `${e.message}: ${e.params.allowedValues.join(", ")}` : e.message;
      report(file, object, e.instancePath || "/", detail);
    }
  }
}

// Serialises each file's objects as typed TypeScript constants in a virtual module of its own, remembering where every
// key lands, so that an excess-property diagnostic maps back to the file, the object and the field's JSON path.
// One TypeScript program checks all files: loading the compiler and the type definitions is the slow part.
function checkUnknownFields(typedByFile) {
  const modules = new Map();
  [...typedByFile].forEach(([file, objects], fileIndex) => {
    if (objects.length > 0) modules.set(path.join(here, `__rendered_${fileIndex}__.ts`), typeModule(file, objects));
  });
  if (modules.size === 0) return;

  const options = { strict: true, noEmit: true, skipLibCheck: true, types: [], target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 };
  const host = ts.createCompilerHost(options);
  const baseGetSourceFile = host.getSourceFile.bind(host);
  const baseFileExists = host.fileExists.bind(host);
  const baseReadFile = host.readFile.bind(host);
  const virtual = (name) => modules.get(path.resolve(name));
  host.getSourceFile = (name, language, onError) => (virtual(name) ? ts.createSourceFile(name, virtual(name).source, language, true) : baseGetSourceFile(name, language, onError));
  host.fileExists = (name) => Boolean(virtual(name)) || baseFileExists(name);
  host.readFile = (name) => virtual(name)?.source ?? baseReadFile(name);
  const program = ts.createProgram([...modules.keys()], options, host);

  // 2353: "Object literal may only specify known properties"; 2561: the same with "Did you mean ...?".
  const excessProperty = new Set([2353, 2561]);
  for (const [virtualFile, module] of modules) {
    for (const d of program.getSemanticDiagnostics(program.getSourceFile(virtualFile))) {
      if (excessProperty.has(d.code)) {
        const jsonPath = module.keyAt.get(d.start) ?? "?";
        const message = ts.flattenDiagnosticMessageText(d.messageText, " ");
        const suggestion = /Did you mean to write '([^']+)'/.exec(message)?.[1];
        report(module.file, module.objectFor(d.start), jsonPath, `unknown field${suggestion ? ` (did you mean '${suggestion}'?)` : ""}`);
      } else if (d.code === 2307 || d.code === 2305 || d.code === 2724) {
        // Every imported model was found by loadModel first, so a missing one here is a bug in this script.
        throw new Error(`validate.mjs: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`);
      }
      // Type errors (2322 and friends) are left to the schema check, which states them in the API's own terms.
    }
  }
}

function typeModule(file, objects) {
  let source = "";
  const keyAt = new Map();
  const starts = [];
  objects.forEach((object, index) => {
    source += `import type { I${object.kind} as T${index} } from "${modelPath(object)}";\n`;
  });
  objects.forEach((object, index) => {
    starts.push({ start: source.length, object });
    source += `export const o${index}: T${index} = `;
    emit(object, "");
    source += ";\n";
  });
  const objectFor = (position) => starts.filter((o) => o.start <= position).at(-1)?.object;
  return { file, source, keyAt, objectFor };

  function emit(value, jsonPath) {
    if (Array.isArray(value)) {
      source += "[";
      value.forEach((item, i) => {
        if (i > 0) source += ", ";
        emit(item, `${jsonPath}/${i}`);
      });
      source += "]";
    } else if (value !== null && typeof value === "object") {
      source += "{";
      Object.entries(value).forEach(([key, item], i) => {
        if (i > 0) source += ", ";
        keyAt.set(source.length, `${jsonPath}/${key}`);
        source += `${JSON.stringify(key)}: `;
        emit(item, `${jsonPath}/${key}`);
      });
      source += "}";
    } else {
      source += JSON.stringify(value);
    }
  }
}

function podSpecOf(object) {
  switch (object.kind) {
    case "Pod":
      return object.spec;
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "ReplicaSet":
    case "Job":
      return object.spec?.template?.spec;
    case "CronJob":
      return object.spec?.jobTemplate?.spec?.template?.spec;
    default:
      return undefined;
  }
}

function podLabelsOf(object) {
  if (object.kind === "Pod") return object.metadata?.labels ?? {};
  if (object.kind === "CronJob") return object.spec?.jobTemplate?.spec?.template?.metadata?.labels ?? {};
  return object.spec?.template?.metadata?.labels ?? {};
}

function checkFarmPolicy(file, objects) {
  const secrets = new Map(objects.filter((o) => o.kind === "Secret").map((o) => [o.metadata?.name, new Set([...Object.keys(o.data ?? {}), ...Object.keys(o.stringData ?? {})])]));
  const tokenNames = new Set(["Farm__Security__Token", "FARM_TOKEN"]);

  // The gateway (and anything else) stays cluster-internal.
  const services = objects.filter((o) => o.kind === "Service");
  for (const service of services) {
    const type = service.spec?.type ?? "ClusterIP";
    if (type === "LoadBalancer" || type === "NodePort") report(file, service, "/spec/type", `is ${type}: Farm's endpoints must stay cluster-internal (ClusterIP; use kubectl port-forward)`);
    if ((service.spec?.externalIPs ?? []).length > 0) report(file, service, "/spec/externalIPs", "must be empty: Farm's endpoints stay cluster-internal");
  }
  const gateway = services.find((s) => s.metadata?.name === "farm-gateway");
  if (!gateway) problems.push(`${file}: no Service farm-gateway`);
  else if (!(gateway.spec?.ports ?? []).some((p) => p.port === 30000)) report(file, gateway, "/spec/ports", "must expose the gateway port 30000");

  // The token is never written into a manifest's plain values.
  for (const map of objects.filter((o) => o.kind === "ConfigMap")) {
    for (const key of Object.keys(map.data ?? {})) {
      if (tokenNames.has(key)) report(file, map, `/data/${key}`, "the token belongs in a Secret, not a ConfigMap");
    }
  }

  let siloPods = 0;
  for (const object of objects) {
    const pod = podSpecOf(object);
    if (!pod) continue;
    const labels = podLabelsOf(object);
    const isSilo = "orleans/serviceId" in labels || (pod.containers ?? []).some((c) => (c.image ?? "").startsWith("farm-silo"));
    const podPath = object.kind === "CronJob" ? "/spec/jobTemplate/spec/template" : object.kind === "Pod" ? "" : "/spec/template";
    if (pod.hostNetwork) report(file, object, `${podPath}/spec/hostNetwork`, "must not be set: silos listen on pod addresses only");
    if (pod.securityContext?.runAsNonRoot !== true) report(file, object, `${podPath}/spec/securityContext/runAsNonRoot`, "must be true");

    (pod.containers ?? []).forEach((container, i) => {
      const at = `${podPath}/spec/containers/${i}`;
      for (const p of container.ports ?? []) if (p.hostPort) report(file, object, `${at}/ports`, "hostPort must not be set: Farm's endpoints stay cluster-internal");
      if (container.securityContext?.allowPrivilegeEscalation !== false) report(file, object, `${at}/securityContext/allowPrivilegeEscalation`, "must be false");
      if (container.securityContext?.readOnlyRootFilesystem !== true) report(file, object, `${at}/securityContext/readOnlyRootFilesystem`, "must be true");
      for (const kind of ["requests", "limits"]) {
        for (const resource of ["cpu", "memory"]) {
          if (container.resources?.[kind]?.[resource] === undefined) report(file, object, `${at}/resources/${kind}/${resource}`, "is required");
        }
      }
      const env = container.env ?? [];
      env.forEach((variable, j) => {
        if (!tokenNames.has(variable.name)) return;
        const ref = variable.valueFrom?.secretKeyRef;
        if (variable.value !== undefined || !ref) report(file, object, `${at}/env/${j}`, `${variable.name} must come from a Secret (valueFrom.secretKeyRef), never a literal value`);
        else if (!secrets.has(ref.name)) report(file, object, `${at}/env/${j}`, `${variable.name} names Secret ${ref.name}, which the manifests do not define`);
        else if (!secrets.get(ref.name).has(ref.key)) report(file, object, `${at}/env/${j}`, `${variable.name} names key ${ref.key}, which Secret ${ref.name} does not have`);
      });
      if (!isSilo) return;
      const names = new Set(env.map((v) => v.name));
      if (!names.has("Farm__Security__Token")) report(file, object, `${at}/env`, "a silo needs Farm__Security__Token (from the token Secret)");
      for (const required of ["POD_NAME", "POD_NAMESPACE", "POD_IP", "ORLEANS_SERVICE_ID", "ORLEANS_CLUSTER_ID"]) {
        if (!names.has(required)) report(file, object, `${at}/env`, `Orleans' Kubernetes hosting needs ${required}`);
      }
    });
    if (!isSilo) continue;
    siloPods++;
    for (const label of ["orleans/serviceId", "orleans/clusterId"]) {
      if (!(label in labels)) report(file, object, `${podPath}/metadata/labels`, `a silo pod needs the label ${label}`);
    }
    const annotations = object.spec?.template?.metadata?.annotations ?? {};
    if (annotations["prometheus.io/scrape"] !== "true" || !annotations["prometheus.io/port"] || !annotations["prometheus.io/path"]) {
      report(file, object, `${podPath}/metadata/annotations`, "a silo pod needs the prometheus.io/scrape, /port and /path annotations");
    }
    if (!canManagePods(objects, pod.serviceAccountName)) {
      report(file, object, `${podPath}/spec/serviceAccountName`, `ServiceAccount ${pod.serviceAccountName ?? "default"} is not bound to a Role allowing get, list, watch and delete on pods`);
    }
  }
  if (siloPods === 0) problems.push(`${file}: no silo workloads (pods labelled orleans/serviceId)`);
}

function canManagePods(objects, serviceAccount) {
  const needed = ["get", "list", "watch", "delete"];
  return objects
    .filter((o) => o.kind === "RoleBinding" && (o.subjects ?? []).some((s) => s.kind === "ServiceAccount" && s.name === (serviceAccount ?? "default")))
    .map((binding) => objects.find((o) => o.kind === binding.roleRef?.kind && o.metadata?.name === binding.roleRef?.name))
    .some((role) => (role?.rules ?? []).some((rule) => (rule.apiGroups ?? []).includes("") && (rule.resources ?? []).includes("pods") && needed.every((verb) => (rule.verbs ?? []).includes(verb) || (rule.verbs ?? []).includes("*"))));
}
