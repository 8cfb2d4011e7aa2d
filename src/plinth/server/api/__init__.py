"""One APIRouter per component; routes parse, authorize, call a service and serialize."""
