/*
 * terracl: TerraTorch's geospatial foundation models on any OpenCL device.
 * The one header to include. See each sub-header for ownership rules.
 */
#ifndef TERRACL_H
#define TERRACL_H

#include "terracl/export.h"
#include "terracl/status.h"
#include "terracl/runtime.h"
#include "terracl/value.h"
#include "terracl/module.h"
#include "terracl/registry.h"
#include "terracl/model.h"
#include "terracl/predict.h"
#include "terracl/probe.h"

#define TERRACL_VERSION_MAJOR 0
#define TERRACL_VERSION_MINOR 1
#define TERRACL_VERSION_PATCH 0

#endif /* TERRACL_H */
