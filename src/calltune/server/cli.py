"""``calltune serve``: the OpenAI-compatible function-calling server and its playground."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command to the main ``calltune`` app."""

    @app.command("serve")
    def serve_cmd(
        model: str | None = typer.Option(
            None,
            "--model",
            "-m",
            help="GGUF path, model directory/hub id, or openai:URL (default: embedded model)",
        ),
        engine: str | None = typer.Option(
            None, "--engine", help="force an engine: llamacpp | transformers | openai"
        ),
        format: str | None = typer.Option(
            None, "--format", "-f", help="chat format (default: from the model)"
        ),
        host: str = typer.Option("127.0.0.1", "--host", help="address to bind"),
        port: int = typer.Option(8000, "--port", "-p", help="port to listen on"),
        api_key: str | None = typer.Option(
            None, "--api-key", envvar="CALLTUNE_API_KEY", help="require 'Authorization: Bearer KEY' on /v1"
        ),
        model_name: str | None = typer.Option(None, "--model-name", help="name reported by /v1/models"),
        cors: bool = typer.Option(
            False, "--cors/--no-cors", help="allow cross-origin browser requests (off by default)"
        ),
        cors_origin: list[str] = typer.Option(
            [], "--cors-origin", help="allow only these origins (implies --cors)"
        ),
        max_body_mb: float = typer.Option(4.0, "--max-body-mb", help="largest accepted request body, in MiB"),
        guided: bool | None = typer.Option(
            None,
            "--guided/--no-guided",
            help="guided decoding for every tool call (default: only for required/named tool_choice)",
        ),
        context_length: int | None = typer.Option(
            None, "--ctx", help="context window to load the model with"
        ),
        log_level: str = typer.Option("info", "--log-level"),
    ) -> None:
        """Serve a model with the OpenAI chat-completions API (tools, streaming) and a web playground at /."""
        from .app import serve

        kw = {}
        if context_length:
            kw["n_ctx"] = context_length
        typer.echo(f"calltune serve: loading {model or 'the embedded default model'} …", err=True)
        serve(
            model,
            engine_kind=engine,
            format=format,
            host=host,
            port=port,
            api_key=api_key,
            model_name=model_name,
            cors=list(cors_origin) if cors_origin else cors,
            max_body_bytes=int(max_body_mb * 1024 * 1024),
            guided=guided,
            log_level=log_level,
            **kw,
        )
