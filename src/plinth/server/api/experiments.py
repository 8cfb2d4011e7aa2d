"""Projects and experiments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from plinth.entities.common import Page
from plinth.entities.limits import MAX_RESULTS
from plinth.entities.tracking import (
    Experiment,
    ExperimentCreate,
    Id,
    Name,
    Project,
    Text,
    ViewType,
)
from plinth.server.deps import TrackingDep
from plinth.server.routing import OrjsonRoute

router = APIRouter(tags=["experiments"], route_class=OrjsonRoute)

MaxResults = Annotated[int, Query(ge=1, le=MAX_RESULTS)]
PageToken = Annotated[str | None, Query(max_length=1000)]
ExperimentId = Id


class ProjectCreate(BaseModel):
    name: Name
    description: Text = Field(default="", max_length=65_536)


@router.get("/projects")
def list_projects(tracking: TrackingDep) -> list[Project]:
    return tracking.store.list_projects()


@router.post("/projects", status_code=status.HTTP_201_CREATED)
def create_project(spec: ProjectCreate, tracking: TrackingDep) -> Project:
    return tracking.store.create_project(spec.name, spec.description)


@router.get("/experiments")
def list_experiments(
    tracking: TrackingDep,
    project: Annotated[Text | None, Query(max_length=250)] = None,
    view: ViewType = ViewType.ACTIVE,
    max_results: MaxResults = 100,
    page_token: PageToken = None,
) -> Page[Experiment]:
    return tracking.store.list_experiments(project, view, max_results, page_token)


@router.post("/experiments", status_code=status.HTTP_201_CREATED)
def create_experiment(spec: ExperimentCreate, tracking: TrackingDep) -> Experiment:
    return tracking.store.create_experiment(spec)


@router.get("/experiments/by-name")
def get_experiment_by_name(
    tracking: TrackingDep,
    name: Annotated[Text, Query(min_length=1, max_length=250)],
    project: Annotated[Text, Query(min_length=1, max_length=250)] = "default",
) -> Experiment:
    return tracking.store.get_experiment_by_name(project, name)


@router.get("/experiments/{experiment_id}")
def get_experiment(experiment_id: ExperimentId, tracking: TrackingDep) -> Experiment:
    return tracking.store.get_experiment(experiment_id)


@router.delete("/experiments/{experiment_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_experiment(experiment_id: ExperimentId, tracking: TrackingDep) -> None:
    tracking.store.delete_experiment(experiment_id)


@router.post("/experiments/{experiment_id}/restore", status_code=status.HTTP_204_NO_CONTENT)
def restore_experiment(experiment_id: ExperimentId, tracking: TrackingDep) -> None:
    tracking.store.restore_experiment(experiment_id)
