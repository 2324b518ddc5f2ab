// @ts-nocheck
// 
// 
// Validates Kubernetes manifests against the Kubernetes OpenAPI schemas that kubernetes-models
// ships (JSON Schema, checked with ajv): types, enums and required fields of every document.
// Unknown fields are not caught (the upstream schemas allow them; kubeconform --strict would).
// Usage: node scripts/validate-k8s-manifests.mjs FILE...   Exit 1 naming every invalid document.
/* global process, console */
import { readFileSync } from 'node:fs';
import * as models from 'kubernetes-models';
import { parseAllDocuments } from 'yaml';

function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const namespace = group === '' ? models[version] : models[group.replace(/\.(\w)/g, (_, c) => c.toUpperCase())]?.[version];
  return namespace?.[kind];
}

let failures = 0;
for (const file of process.argv.slice(2)) {
  for (const [index, document] of parseAllDocuments(readFileSync(file, 'utf8')).entries()) {
    const object = document.toJS();
    if (object === null) continue;
    const where = `${file} document ${index + 1} (${object.kind ?? '?'} ${object.metadata?.name ?? ''})`;
    const Model = modelFor(object.apiVersion ?? '', object.kind ?? '');
    if (!Model) {
      console.error(`${where}: no schema for apiVersion ${object.apiVersion} kind ${object.kind}`);
      failures += 1;
      continue;
    }
    try {
      new Model(object).validate();
    } catch (error) {
      console.error(`${where}: ${error.message}`);
      failures += 1;
    }
  }
}
process.exitCode = failures === 0 ? 0 : 1;
