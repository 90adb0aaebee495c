/*
 * CLibXML2: the system libxml2, plus a few static inline shims for what Swift
 * imports badly or what changed between libxml2 releases. Only OnbrandXML imports
 * this module. Every shim says why it exists.
 *
 * Must build against Debian 12's libxml2 2.9.14 and against 2.12 and later.
 */
#ifndef ONBRAND_CLIBXML2_H
#define ONBRAND_CLIBXML2_H

#include <libxml/xmlversion.h>
/* Debian builds libxml2 with ICU, and encoding.h then includes ICU's headers,
 * which clash with Foundation's own copy of ICU ("UErrorCode has different
 * definitions"). Onbrand never touches the ICU parts of xmlCharEncodingHandler
 * (it only passes pointers to it), so the headers are read as if ICU were off. */
#ifdef LIBXML_ICU_ENABLED
#undef LIBXML_ICU_ENABLED
#endif
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlerror.h>
#include <libxml/SAX2.h>
#include <string.h>

/* libxml2 2.12 changed xmlStructuredErrorFunc to take `const xmlError *`; older
 * releases take a mutable `xmlErrorPtr`. The trampoline below is declared with
 * whichever the installed headers expect, so Swift sees one stable callback. */
#if LIBXML_VERSION >= 21200
#define ONBRAND_XML_ERROR_PTR const xmlError *
#else
#define ONBRAND_XML_ERROR_PTR xmlErrorPtr
#endif

/* The stable callback Swift implements: plain values only, no libxml2 struct. */
typedef void (*onbrand_xml_error_fn)(void *_Nullable context,
                                     const char *_Nullable message,
                                     const char *_Nullable file,
                                     int line, int column, int level, int domain, int code);

/* Owned by the Swift side for the lifetime of one reader. */
typedef struct onbrand_xml_error_sink {
    onbrand_xml_error_fn _Nonnull callback;
    void *_Nullable context;
} onbrand_xml_error_sink;

/* Unpacks libxml2's error struct into plain values for the Swift callback. */
static inline void onbrand_xml_error_trampoline(void *_Nullable user_data, ONBRAND_XML_ERROR_PTR _Nullable error) {
    if (user_data == NULL || error == NULL) return;
    const onbrand_xml_error_sink *sink = (const onbrand_xml_error_sink *)user_data;
    sink->callback(sink->context, error->message, error->file, error->line, error->int2,
                   (int)error->level, error->domain, error->code);
}

/* Routes one reader's errors to `sink` instead of libxml2's default stderr printer.
 * Hides the 2.12 signature change behind one entry point. */
static inline void onbrand_xml_reader_on_error(xmlTextReaderPtr _Nonnull reader,
                                               onbrand_xml_error_sink *_Nonnull sink) {
    xmlTextReaderSetStructuredErrorHandler(reader, onbrand_xml_error_trampoline, sink);
}

/* The only parse options Onbrand uses: never touch the network, keep line numbers
 * above 65535, pack small text nodes. Deliberately absent: NOENT (entity
 * substitution), DTDLOAD, DTDATTR, DTDVALID, XINCLUDE, RECOVER and HUGE.
 * From 2.13 on, NO_XXE also refuses external entities at the parser level. */
static inline int onbrand_xml_secure_options(void) {
    int options = XML_PARSE_NONET | XML_PARSE_BIG_LINES | XML_PARSE_COMPACT;
#if LIBXML_VERSION >= 21300
    options |= XML_PARSE_NO_XXE;
#endif
    return options;
}

/* An external entity loader that refuses every load, so no entity, DTD or
 * XInclude can ever read a local file or a URL, whatever the options say. */
static inline xmlParserInputPtr _Nullable onbrand_xml_refusing_loader(const char *_Nullable url,
                                                                      const char *_Nullable public_id,
                                                                      xmlParserCtxtPtr _Nullable context) {
    (void)url; (void)public_id; (void)context;
    return NULL;
}

/* Initialises libxml2 once per process and installs the refusing loader. */
static inline void onbrand_xml_initialize(void) {
    xmlInitParser();
    xmlSetExternalEntityLoader(onbrand_xml_refusing_loader);
}

/* ---- SAX2 push parsing, for the catalog hot loop ------------------------------------------
 * xmlTextReader builds and frees a node per element; SAX2 builds nothing, which halves libxml2's
 * share of catalog ingestion. The callbacks below forward to Swift with plain, stable
 * signatures; the handler struct is filled here because its serror field changed type in 2.12. */

typedef struct onbrand_sax_callbacks {
    /* attributes: nb_attributes 5-tuples (localname, prefix, URI, value, end), as libxml2 gives them */
    void (*_Nonnull start)(void *_Nullable context, const xmlChar *_Nonnull local, const xmlChar *_Nullable uri,
                           int nb_attributes, const xmlChar *_Nullable *_Nullable attributes);
    void (*_Nonnull end)(void *_Nullable context);
    void (*_Nonnull text)(void *_Nullable context, const xmlChar *_Nonnull bytes, int length);
    /* CDATA apart from text: in push mode libxml2 checks it less strictly (overlong forms pass) */
    void (*_Nonnull cdata)(void *_Nullable context, const xmlChar *_Nonnull bytes, int length);
    void (*_Nonnull doctype)(void *_Nullable context);
    void (*_Nonnull reference)(void *_Nullable context, const xmlChar *_Nonnull name);
    onbrand_xml_error_fn _Nonnull error;
    void *_Nullable context;
} onbrand_sax_callbacks;

static inline void onbrand_sax_start(void *_Nullable user, const xmlChar *_Nonnull local, const xmlChar *_Nullable prefix,
                                     const xmlChar *_Nullable uri, int nb_namespaces, const xmlChar *_Nullable *_Nullable namespaces,
                                     int nb_attributes, int nb_defaulted, const xmlChar *_Nullable *_Nullable attributes) {
    (void)prefix; (void)nb_namespaces; (void)namespaces; (void)nb_defaulted;
    const onbrand_sax_callbacks *cb = (const onbrand_sax_callbacks *)user;
    cb->start(cb->context, local, uri, nb_attributes, attributes);
}
static inline void onbrand_sax_end(void *_Nullable user, const xmlChar *_Nullable local, const xmlChar *_Nullable prefix,
                                   const xmlChar *_Nullable uri) {
    (void)local; (void)prefix; (void)uri;
    const onbrand_sax_callbacks *cb = (const onbrand_sax_callbacks *)user;
    cb->end(cb->context);
}
static inline void onbrand_sax_text(void *_Nullable user, const xmlChar *_Nonnull bytes, int length) {
    const onbrand_sax_callbacks *cb = (const onbrand_sax_callbacks *)user;
    cb->text(cb->context, bytes, length);
}
static inline void onbrand_sax_cdata(void *_Nullable user, const xmlChar *_Nonnull bytes, int length) {
    const onbrand_sax_callbacks *cb = (const onbrand_sax_callbacks *)user;
    cb->cdata(cb->context, bytes, length);
}
static inline void onbrand_sax_internal_subset(void *_Nullable user, const xmlChar *_Nullable name,
                                               const xmlChar *_Nullable external_id, const xmlChar *_Nullable system_id) {
    (void)name; (void)external_id; (void)system_id;
    const onbrand_sax_callbacks *cb = (const onbrand_sax_callbacks *)user;
    cb->doctype(cb->context);
}
static inline void onbrand_sax_reference(void *_Nullable user, const xmlChar *_Nonnull name) {
    const onbrand_sax_callbacks *cb = (const onbrand_sax_callbacks *)user;
    cb->reference(cb->context, name);
}
static inline void onbrand_sax_error(void *_Nullable user, ONBRAND_XML_ERROR_PTR _Nullable error) {
    if (user == NULL || error == NULL) return;
    const onbrand_sax_callbacks *cb = (const onbrand_sax_callbacks *)user;
    cb->error(cb->context, error->message, error->file, error->line, error->int2, (int)error->level, error->domain, error->code);
}

/* A push parser whose events go to `callbacks`, with Onbrand's secure options. */
static inline xmlParserCtxtPtr _Nullable onbrand_sax_create(onbrand_sax_callbacks *_Nonnull callbacks,
                                                            const char *_Nullable file_name) {
    xmlSAXHandler sax;
    memset(&sax, 0, sizeof sax);
    sax.initialized = XML_SAX2_MAGIC;
    sax.startElementNs = onbrand_sax_start;
    sax.endElementNs = onbrand_sax_end;
    sax.characters = onbrand_sax_text;
    sax.cdataBlock = onbrand_sax_cdata;
    sax.internalSubset = onbrand_sax_internal_subset;
    sax.reference = onbrand_sax_reference;
    sax.serror = onbrand_sax_error;
    xmlParserCtxtPtr context = xmlCreatePushParserCtxt(&sax, callbacks, NULL, 0, file_name);
    if (context != NULL) xmlCtxtUseOptions(context, onbrand_xml_secure_options());
    return context;
}

/* xmlFree is a function-pointer variable (a macro in threaded builds) that
 * Swift cannot call directly. */
static inline void onbrand_xml_free(void *_Nullable pointer) {
    if (pointer != NULL) xmlFree(pointer);
}

#endif
