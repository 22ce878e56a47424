/* Symbol visibility for terracl's public API. */
#ifndef TERRACL_EXPORT_H
#define TERRACL_EXPORT_H

#if defined(TERRACL_STATIC)
#define TERRACL_API
#elif defined(TERRACL_BUILDING)
#define TERRACL_API __attribute__((visibility("default")))
#else
#define TERRACL_API
#endif

#endif /* TERRACL_EXPORT_H */
