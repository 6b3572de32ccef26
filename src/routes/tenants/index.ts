// POST /v1/tenants (provisioning) and /v1/tenant (the caller's tenant).
export { provisioning } from './provision';
export { lifecycle } from './lifecycle';
