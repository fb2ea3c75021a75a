"""Evaluations of calls: one, a batch, a filtered list."""

from typing import Any

from flask.views import MethodView

from service.edge.actors import current_actor
from service.edge.downloads import MEDIA_TYPES, attachment
from service.edge.schemas import Blueprint
from service.edge.sessions import begin_writing, get_session, reads_input_first
from service.evaluations import reads, revisions, spreadsheets, submission, uploads
from service.evaluations.schemas import (
    EVALUATIONS,
    AmendmentIn,
    BatchOut,
    EvaluationBatchIn,
    EvaluationIn,
    EvaluationOut,
    EvaluationQuery,
    PreviewIn,
    PreviewOut,
    RawBatchIn,
    RetractionIn,
    RevisionOut,
    TemplateQuery,
    UploadFileIn,
    UploadIn,
    UploadOut,
)

blp = Blueprint("evaluations", __name__, description="Scored evaluations of calls")


@blp.route("/evaluations")
class Evaluations(MethodView):
    @blp.arguments(EvaluationQuery, location="query")
    @blp.response(200, EvaluationOut(many=True))
    @blp.paginate()
    def get(self, query: dict[str, Any], pagination_parameters: Any) -> Any:
        """List evaluations, newest call last; `period` is the contract's month."""
        evaluations, pagination_parameters.item_count = reads.list_evaluations(
            session=get_session(),
            actor=current_actor(),
            first=pagination_parameters.first_item,
            size=pagination_parameters.page_size,
            **query,
        )
        return evaluations

    @blp.arguments(EvaluationIn)
    @blp.response(201, EvaluationOut)
    @blp.alt_response(200, schema=EvaluationOut, description="The same evaluation was stored")
    def post(self, record: dict[str, Any]) -> Any:
        """Score and store one evaluation; the same call and source again is idempotent."""
        evaluation, created = submission.submit_evaluation(
            session=get_session(), actor=current_actor(), record=record
        )
        return evaluation, 201 if created else 200


@blp.route("/evaluations/batch")
class EvaluationBatch(MethodView):
    @blp.arguments(RawBatchIn)
    @blp.doc(
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": EvaluationBatchIn}},
        }
    )
    @blp.response(201, BatchOut)
    def post(self, body: dict[str, Any]) -> Any:
        """Store up to 1,000 evaluations, all or nothing; every bad record is listed by index."""
        records, errors = EVALUATIONS.load_each(body["evaluations"])
        return submission.submit_evaluations(
            session=get_session(),
            actor=current_actor(),
            records=records,
            errors=errors,
            size=len(body["evaluations"]),
        )


@blp.route("/evaluations/preview")
class EvaluationPreview(MethodView):
    @blp.arguments(PreviewIn)
    @blp.response(200, PreviewOut)
    def post(self, body: dict[str, Any]) -> Any:
        """Score answers as a submission would, storing nothing; list questions left open."""
        return submission.preview_evaluation(session=get_session(), actor=current_actor(), **body)


@blp.route("/evaluations/<id:evaluation_id>")
class EvaluationDetail(MethodView):
    @blp.response(200, EvaluationOut)
    def get(self, evaluation_id: int) -> Any:
        """Return one evaluation with its score."""
        return reads.get_evaluation(
            session=get_session(), actor=current_actor(), evaluation_id=evaluation_id
        )


@blp.route("/evaluations/<id:evaluation_id>/revisions")
class EvaluationRevisions(MethodView):
    @blp.response(200, RevisionOut(many=True))
    def get(self, evaluation_id: int) -> Any:
        """Every revision of an evaluation, oldest first, with who made it and why."""
        return reads.list_revisions(
            session=get_session(), actor=current_actor(), evaluation_id=evaluation_id
        )

    @blp.arguments(AmendmentIn)
    @blp.response(201, EvaluationOut)
    def post(self, body: dict[str, Any], evaluation_id: int) -> Any:
        """Amend an evaluation (its author side): the new answers become its current revision."""
        return revisions.amend_evaluation(
            session=get_session(), actor=current_actor(), evaluation_id=evaluation_id, **body
        )


@blp.route("/evaluations/<id:evaluation_id>/retraction")
class EvaluationRetraction(MethodView):
    @blp.arguments(RetractionIn)
    @blp.response(200, EvaluationOut)
    def post(self, body: dict[str, Any], evaluation_id: int) -> Any:
        """Retract an evaluation (its author side): it stays visible and stops counting."""
        return revisions.retract_evaluation(
            session=get_session(), actor=current_actor(), evaluation_id=evaluation_id, **body
        )


@blp.route("/contracts/<id:contract_id>/evaluations/template")
class EvaluationTemplate(MethodView):
    @blp.arguments(TemplateQuery, location="query")
    @blp.response(
        200,
        {"format": "binary", "type": "string"},
        content_type=MEDIA_TYPES["xlsx"],
        description="The template: XLSX (with a sheet of allowed values) or CSV",
    )
    def get(self, query: dict[str, Any], contract_id: int) -> Any:
        """Download the spreadsheet template of a contract's month, on the form its terms name."""
        template = uploads.evaluation_template(
            session=get_session(), actor=current_actor(), contract_id=contract_id, **query
        )
        return attachment(template.content, template.filename)


@blp.route("/contracts/<id:contract_id>/evaluations/upload")
class EvaluationUpload(MethodView):
    @reads_input_first
    @blp.arguments(UploadIn, location="form")
    @blp.arguments(UploadFileIn, location="files")
    @blp.response(201, UploadOut)
    @blp.alt_response(200, schema=UploadOut, description="A dry run: what the file would do")
    def post(self, form: dict[str, Any], files: dict[str, Any], contract_id: int) -> Any:
        """Store the evaluations of a filled template, all or nothing; a dry run stores none.

        Every bad row is named by its spreadsheet row number and column.
        """
        session, actor = get_session(), current_actor()
        upload = uploads.read_upload(
            session=session,
            actor=actor,
            contract_id=contract_id,
            content=files["file"].read(spreadsheets.MAX_BYTES + 1),
            source=form["source"],
            naive_times_in_contract_zone=form["naive_times_in_contract_zone"],
        )
        begin_writing(session)
        report = uploads.store_upload(
            session=session, actor=actor, upload=upload, dry_run=form["dry_run"]
        )
        return report, 200 if form["dry_run"] else 201
