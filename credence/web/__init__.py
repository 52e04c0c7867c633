"""The pages: the public record and the subject's portal, server-rendered on the gate's app.

A face, like ``credence.api``: it parses forms, calls the rooms' library functions and renders
Jinja2 templates (autoescaped, no logic beyond loops and ifs). ``credence.api.app`` mounts it
(``site.install``); it never imports the API or the ORM.
"""
