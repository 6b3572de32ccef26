// POST /v1/tenants (provisioning) and /v1/tenant (the caller's tenant).

export { lifecycle } from './lifecycle';
export { provisioning } from './provision';
export { vectorIndex } from './vector-index';
