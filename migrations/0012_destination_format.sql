-- The output format of each destination (issue #13): 'ecs' (the product page's event, the default, so
-- every existing destination keeps receiving exactly what it did) or 'ocsf' (an OCSF Data Security
-- Finding). The API checks the value first and answers 400 naming the field; the CHECK is the backstop.
ALTER TABLE destinations ADD COLUMN format text NOT NULL DEFAULT 'ecs' CHECK (format IN ('ecs', 'ocsf'));
