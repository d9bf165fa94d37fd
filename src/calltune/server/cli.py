"""``calltune serve``: the OpenAI-compatible function-calling server and its playground."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ..cli_options import (
    ContinueOpt,
    EngineOpt,
    FormatOpt,
    GroundingOpt,
    GuidedOpt,
    McpOpt,
    ModelOpt,
    NCtxOpt,
    RelevanceOpt,
    parallel_kwargs,
    toolbox_from_options,
)


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command to the main ``calltune`` app."""

    @app.command("serve")
    def serve_cmd(
        model: ModelOpt = None,
        engine: EngineOpt = None,
        format: FormatOpt = None,
        host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", "-p", help="Port to listen on.")] = 8000,
        api_key: Annotated[
            str | None,
            typer.Option(
                "--api-key", envvar="CALLTUNE_API_KEY", help="Require 'Authorization: Bearer KEY' on /v1."
            ),
        ] = None,
        model_name: Annotated[
            str | None, typer.Option("--model-name", help="Name reported by /v1/models.")
        ] = None,
        cors: Annotated[
            bool,
            typer.Option("--cors/--no-cors", help="Allow cross-origin browser requests (off by default)."),
        ] = False,
        cors_origin: Annotated[
            list[str] | None, typer.Option("--cors-origin", help="Allow only these origins (implies --cors).")
        ] = None,
        max_body_mb: Annotated[
            float, typer.Option("--max-body-mb", help="Largest accepted request body, in MiB.")
        ] = 4.0,
        guided: GuidedOpt = None,
        relevance: RelevanceOpt = True,
        grounding: GroundingOpt = True,
        continue_calls: ContinueOpt = True,
        n_ctx: NCtxOpt = None,
        parallel: Annotated[
            int,
            typer.Option(
                "--parallel",
                help="Requests a GGUF model decodes together (continuous batching; 1: one at a time).",
            ),
        ] = 1,
        mcp: McpOpt = None,
        stream_arguments: Annotated[
            bool,
            typer.Option(
                "--stream-arguments/--no-stream-arguments",
                help="Stream call arguments as the model writes them (where the turn cannot take the "
                "call back); --no-stream-arguments sends each call's arguments in one chunk.",
            ),
        ] = True,
        log_level: Annotated[str, typer.Option("--log-level", help="uvicorn log level.")] = "info",
    ) -> None:
        """Serve a model with the OpenAI chat-completions API (tools, streaming) and a web playground at /."""
        from .app import serve

        kw: dict[str, Any] = {"n_ctx": n_ctx} if n_ctx else {}
        kw.update(parallel_kwargs(model, engine, parallel))
        toolbox = toolbox_from_options(None, None, mcp=mcp) if mcp else None  # the playground's tools
        typer.echo(f"calltune serve: loading {model or 'the embedded default model'} …", err=True)
        try:
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
                check_relevance=relevance,
                ground_arguments=grounding,
                continue_calls=continue_calls,
                log_level=log_level,
                toolbox=toolbox,
                stream_arguments=stream_arguments,
                **kw,
            )
        finally:
            if toolbox is not None:
                toolbox.close()
