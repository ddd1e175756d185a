-- Argo CD health check for Stores, Members and Invitations (membership.storeops.io), the same
-- reading as Flux's kstatus: Progressing while the operator has not seen the latest spec or is
-- working (Reconciling), Degraded when it cannot go on without someone changing something
-- (Stalled), Healthy otherwise -- waiting on a person (an owner's activation, an invitee) and
-- finished invitations (Accepted, Expired, Revoked) included, so a sync never waits on a person.
-- Install it in argocd-cm for each kind (docs/gitops.md).
hs = {status = "Healthy", message = ""}
if obj.status == nil or obj.status.observedGeneration == nil or obj.status.observedGeneration ~= obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe the latest spec"
  return hs
end
if obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Stalled" and c.status == "True" then
      hs.status = "Degraded"
      hs.message = c.message
      return hs
    end
    if c.type == "Reconciling" and c.status == "True" then
      hs.status = "Progressing"
      hs.message = c.message
      return hs
    end
    if c.type == "Ready" then
      hs.message = c.message
    end
  end
end
return hs
