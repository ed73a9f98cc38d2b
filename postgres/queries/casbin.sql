-- name: ListCasbinRules :many
SELECT * FROM casbin_rules ORDER BY id;

-- name: InsertCasbinRule :exec
INSERT INTO casbin_rules (ptype, v0, v1, v2, v3, v4, v5)
VALUES (@ptype, @v0, @v1, @v2, @v3, @v4, @v5)
ON CONFLICT DO NOTHING;

-- name: DeleteCasbinRule :exec
DELETE FROM casbin_rules
WHERE ptype = @ptype AND v0 = @v0 AND v1 = @v1 AND v2 = @v2 AND v3 = @v3 AND v4 = @v4 AND v5 = @v5;

-- name: DeleteCasbinRuleByID :exec
DELETE FROM casbin_rules WHERE id = @id;

-- name: DeleteAllCasbinRules :exec
DELETE FROM casbin_rules;

-- name: ListCasbinRulesOfDomains :many
SELECT * FROM casbin_rules
WHERE (ptype LIKE 'p%' AND v1 = ANY(@domains::text[]))
   OR (ptype LIKE 'g%' AND v2 = ANY(@domains::text[]))
ORDER BY id;
