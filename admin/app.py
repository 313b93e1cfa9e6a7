"""The admin console's Flask app, mounted at /admin (the full console is a later issue)."""

from __future__ import annotations

from flask import Flask, render_template_string, request

from hub.settings import Settings

INDEX_PAGE = """<!doctype html>
<html lang="zh-Hans">
  <head>
    <meta charset="utf-8" />
    <title>管理后台 · 邻聚 Hub</title>
    <link rel="stylesheet" href="{{ static }}/hub.css" />
  </head>
  <body>
    <main class="landing">
      <h1>邻聚 Hub 管理后台</h1>
      <p>管理后台正在建设中：区、街道、社区管理员将在这里查找、筛选、编辑和导入导出记录，
        并查看修改记录。</p>
      <p class="muted">The admin console is under construction.</p>
      <ul>
        <li><a href="{{ root }}/graphql">GraphQL 接口与 GraphiQL</a></li>
        <li><a href="{{ root }}/healthz">运行状态 /healthz</a></li>
      </ul>
    </main>
  </body>
</html>
"""


def create_admin(settings: Settings) -> Flask:
    """The console for these settings, as a WSGI app to mount under /admin."""
    app = Flask("linju_admin")
    app.config.update(SECRET_KEY=settings.secret_key, DEBUG=settings.debug, JSON_AS_ASCII=False)

    @app.get("/")
    def index() -> str:
        # The hub's root, seen from inside the mount: SCRIPT_NAME is "<root>/admin".
        root = request.script_root.removesuffix("/admin")
        return render_template_string(INDEX_PAGE, root=root, static=f"{root}/static")

    return app
