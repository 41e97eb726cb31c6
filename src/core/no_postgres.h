// Included by every core header: the core is pure C++ and must never see
// PostgreSQL's headers (their macros and longjmp-based errors do not mix with
// C++ here). postgres.h defines PG_VERSION_NUM via pg_config.h. The build
// defines PK_CORE_ONLY for src/core/*.cpp; the SQL layer may include both.
#pragma once

#if defined(PK_CORE_ONLY) && (defined(POSTGRES_H) || defined(PG_VERSION_NUM))
#error "src/core must not include PostgreSQL headers"
#endif
