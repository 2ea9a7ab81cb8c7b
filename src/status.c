/* opes_strerror and opes_status_name: a switch with no default, so -Wswitch
 * flags a code added to the enum and forgotten here. */
#include "internal.h"

/* see opes/status.h */
const char *opes_strerror(int status)
{
    switch ((opes_status)status) {
    case OPES_OK:
        return "success";
    case OPES_INCOMPLETE:
        return "need more bytes; nothing was consumed";
    case OPES_EINVAL:
        return "an argument is NULL or out of range";
    case OPES_ENOSPC:
        return "output buffer too small; *len holds the size needed";
    case OPES_ENOMEM:
        return "the allocator failed";
    case OPES_ECEILING:
        return "a limit was set above its compile-time ceiling";
    case OPES_ENOTFOUND:
        return "the thing asked for is absent (e.g. a parameter)";
    case OPES_EUNSUPPORTED:
        return "not available in this build (e.g. zlib off)";
    case OPES_EINJECT:
        return "a value would put CR, LF or NUL into a header or reply";
    case OPES_EEXIST:
        return "already registered";
    case OPES_EOVERFLOW:
        return "an output size would not fit in size_t";
    case OPES_ESYNTAX:
        return "generic syntax error";
    case OPES_EBAD_CHAR:
        return "a character the grammar does not allow here";
    case OPES_EBARE_CR:
        return "CR not followed by LF";
    case OPES_EBARE_LF:
        return "LF not preceded by CR";
    case OPES_EUNKNOWN_COMMAND:
        return "verb not recognised (reply 500)";
    case OPES_ENOT_OFFERED:
        return "verb of an extension the server does not offer";
    case OPES_EUNEXPECTED_ARG:
        return "argument to a command that takes none";
    case OPES_EMISSING_ARG:
        return "required argument absent";
    case OPES_EBAD_PATH:
        return "reverse- or forward-path malformed";
    case OPES_EBAD_LOCAL_PART:
        return "local-part malformed";
    case OPES_EBAD_DOMAIN:
        return "domain malformed";
    case OPES_EBAD_ADDRESS_LITERAL:
        return "[IPv4], [IPv6:...] or general literal malformed";
    case OPES_EBAD_PARAM:
        return "esmtp-param malformed";
    case OPES_EPARAM_DUPLICATE:
        return "the same parameter twice (RFC 1869, RFC 3461 5.1)";
    case OPES_EPARAM_VALUE:
        return "a known parameter with a value its RFC forbids";
    case OPES_EPARAM_UNKNOWN:
        return "parameter not recognised or not offered (reply 555)";
    case OPES_EBAD_XTEXT:
        return "xtext (RFC 3461 4) malformed";
    case OPES_EBAD_UTF8:
        return "invalid UTF-8, or UTF-8 where SMTPUTF8 is not in effect";
    case OPES_EBAD_BASE64:
        return "base64 (RFC 4954 4) malformed";
    case OPES_EBAD_REPLY:
        return "reply line malformed";
    case OPES_EREPLY_CODE_MISMATCH:
        return "lines of one multi-line reply with different codes";
    case OPES_EBAD_ENHANCED_CODE:
        return "enhanced status code malformed (RFC 3463)";
    case OPES_EBAD_EHLO:
        return "EHLO response malformed";
    case OPES_EBAD_NUMBER:
        return "a number malformed or out of range";
    case OPES_EBAD_UTF8ADDR:
        return "utf-8-addr-xtext/unitext malformed (RFC 6533 3)";
    case OPES_ELINE_TOO_LONG:
        return "command line over its limit (reply 500)";
    case OPES_EREPLY_TOO_LONG:
        return "reply line over its limit";
    case OPES_ELOCAL_PART_TOO_LONG:
        return "local-part over its limit";
    case OPES_EDOMAIN_TOO_LONG:
        return "domain over its limit";
    case OPES_EPATH_TOO_LONG:
        return "path over its limit (reply 501)";
    case OPES_ETOO_MANY_PARAMS:
        return "more parameters than the limit";
    case OPES_ETOO_MANY_LINES:
        return "more reply lines than the limit";
    case OPES_ETEXT_LINE_TOO_LONG:
        return "message text line over its limit";
    case OPES_EAUTH_LINE_TOO_LONG:
        return "AUTH exchange line over its limit (500 5.5.6)";
    case OPES_EPARAM_TOO_LONG:
        return "a parameter value over its RFC size (ENVID, ORCPT)";
    case OPES_ESTATE:
        return "call not valid in the object's current state";
    case OPES_EBAD_HEADER_NAME:
        return "header field name malformed (RFC 5322 3.6.8)";
    case OPES_EBAD_HEADER:
        return "header section malformed (a line that is no field)";
    case OPES_EBAD_URI:
        return "URI malformed (RFC 3986)";
    case OPES_EURI_NOT_ABSOLUTE:
        return "a relative reference or fragment where an absolute URI is required";
    case OPES_EBAD_DATE:
        return "date-time malformed (RFC 5322 3.3)";
    case OPES_EBAD_RECEIVED:
        return "Received field malformed (RFC 5321 4.4)";
    case OPES_EBAD_TRACE:
        return "OPES trace entry malformed (docs/opes-smtp.md)";
    case OPES_EBAD_BYPASS:
        return "OPES bypass request malformed (docs/opes-smtp.md)";
    case OPES_EBAD_MIME:
        return "MIME structure or Content-* field malformed (RFC 2045, RFC 2046)";
    case OPES_EBAD_QP:
        return "quoted-printable malformed (RFC 2045 6.7)";
    case OPES_EBAD_DSN:
        return "delivery-status content malformed (RFC 3464)";
    case OPES_EBAD_MBOX:
        return "mbox malformed: no From_ line where a message starts";
    case OPES_EBAD_GZIP:
        return "gzip stream corrupt or truncated (RFC 1952)";
    case OPES_EMIME_TOO_DEEP:
        return "MIME entities nested deeper than the limit";
    case OPES_EHEADER_LINE_TOO_LONG:
        return "header line over 998 octets (RFC 5322 2.1.1)";
    case OPES_EHEADER_TOO_LONG:
        return "header field or section over its limit";
    case OPES_EURI_TOO_LONG:
        return "URI over its limit";
    case OPES_ETOO_MANY_ITEMS:
        return "more list entries than the limit";
    case OPES_ETRACE_TAMPERED:
        return "a trace field present before a service ran was deleted or altered";
    }
    return "unknown error";
}

/* see opes/status.h */
const char *opes_status_name(int status)
{
    switch ((opes_status)status) {
    case OPES_OK:
        return "OPES_OK";
    case OPES_INCOMPLETE:
        return "OPES_INCOMPLETE";
    case OPES_EINVAL:
        return "OPES_EINVAL";
    case OPES_ENOSPC:
        return "OPES_ENOSPC";
    case OPES_ENOMEM:
        return "OPES_ENOMEM";
    case OPES_ECEILING:
        return "OPES_ECEILING";
    case OPES_ENOTFOUND:
        return "OPES_ENOTFOUND";
    case OPES_EUNSUPPORTED:
        return "OPES_EUNSUPPORTED";
    case OPES_EINJECT:
        return "OPES_EINJECT";
    case OPES_EEXIST:
        return "OPES_EEXIST";
    case OPES_EOVERFLOW:
        return "OPES_EOVERFLOW";
    case OPES_ESYNTAX:
        return "OPES_ESYNTAX";
    case OPES_EBAD_CHAR:
        return "OPES_EBAD_CHAR";
    case OPES_EBARE_CR:
        return "OPES_EBARE_CR";
    case OPES_EBARE_LF:
        return "OPES_EBARE_LF";
    case OPES_EUNKNOWN_COMMAND:
        return "OPES_EUNKNOWN_COMMAND";
    case OPES_ENOT_OFFERED:
        return "OPES_ENOT_OFFERED";
    case OPES_EUNEXPECTED_ARG:
        return "OPES_EUNEXPECTED_ARG";
    case OPES_EMISSING_ARG:
        return "OPES_EMISSING_ARG";
    case OPES_EBAD_PATH:
        return "OPES_EBAD_PATH";
    case OPES_EBAD_LOCAL_PART:
        return "OPES_EBAD_LOCAL_PART";
    case OPES_EBAD_DOMAIN:
        return "OPES_EBAD_DOMAIN";
    case OPES_EBAD_ADDRESS_LITERAL:
        return "OPES_EBAD_ADDRESS_LITERAL";
    case OPES_EBAD_PARAM:
        return "OPES_EBAD_PARAM";
    case OPES_EPARAM_DUPLICATE:
        return "OPES_EPARAM_DUPLICATE";
    case OPES_EPARAM_VALUE:
        return "OPES_EPARAM_VALUE";
    case OPES_EPARAM_UNKNOWN:
        return "OPES_EPARAM_UNKNOWN";
    case OPES_EBAD_XTEXT:
        return "OPES_EBAD_XTEXT";
    case OPES_EBAD_UTF8:
        return "OPES_EBAD_UTF8";
    case OPES_EBAD_BASE64:
        return "OPES_EBAD_BASE64";
    case OPES_EBAD_REPLY:
        return "OPES_EBAD_REPLY";
    case OPES_EREPLY_CODE_MISMATCH:
        return "OPES_EREPLY_CODE_MISMATCH";
    case OPES_EBAD_ENHANCED_CODE:
        return "OPES_EBAD_ENHANCED_CODE";
    case OPES_EBAD_EHLO:
        return "OPES_EBAD_EHLO";
    case OPES_EBAD_NUMBER:
        return "OPES_EBAD_NUMBER";
    case OPES_EBAD_UTF8ADDR:
        return "OPES_EBAD_UTF8ADDR";
    case OPES_ELINE_TOO_LONG:
        return "OPES_ELINE_TOO_LONG";
    case OPES_EREPLY_TOO_LONG:
        return "OPES_EREPLY_TOO_LONG";
    case OPES_ELOCAL_PART_TOO_LONG:
        return "OPES_ELOCAL_PART_TOO_LONG";
    case OPES_EDOMAIN_TOO_LONG:
        return "OPES_EDOMAIN_TOO_LONG";
    case OPES_EPATH_TOO_LONG:
        return "OPES_EPATH_TOO_LONG";
    case OPES_ETOO_MANY_PARAMS:
        return "OPES_ETOO_MANY_PARAMS";
    case OPES_ETOO_MANY_LINES:
        return "OPES_ETOO_MANY_LINES";
    case OPES_ETEXT_LINE_TOO_LONG:
        return "OPES_ETEXT_LINE_TOO_LONG";
    case OPES_EAUTH_LINE_TOO_LONG:
        return "OPES_EAUTH_LINE_TOO_LONG";
    case OPES_EPARAM_TOO_LONG:
        return "OPES_EPARAM_TOO_LONG";
    case OPES_ESTATE:
        return "OPES_ESTATE";
    case OPES_EBAD_HEADER_NAME:
        return "OPES_EBAD_HEADER_NAME";
    case OPES_EBAD_HEADER:
        return "OPES_EBAD_HEADER";
    case OPES_EBAD_URI:
        return "OPES_EBAD_URI";
    case OPES_EURI_NOT_ABSOLUTE:
        return "OPES_EURI_NOT_ABSOLUTE";
    case OPES_EBAD_DATE:
        return "OPES_EBAD_DATE";
    case OPES_EBAD_RECEIVED:
        return "OPES_EBAD_RECEIVED";
    case OPES_EBAD_TRACE:
        return "OPES_EBAD_TRACE";
    case OPES_EBAD_BYPASS:
        return "OPES_EBAD_BYPASS";
    case OPES_EBAD_MIME:
        return "OPES_EBAD_MIME";
    case OPES_EBAD_QP:
        return "OPES_EBAD_QP";
    case OPES_EBAD_DSN:
        return "OPES_EBAD_DSN";
    case OPES_EBAD_MBOX:
        return "OPES_EBAD_MBOX";
    case OPES_EBAD_GZIP:
        return "OPES_EBAD_GZIP";
    case OPES_EMIME_TOO_DEEP:
        return "OPES_EMIME_TOO_DEEP";
    case OPES_EHEADER_LINE_TOO_LONG:
        return "OPES_EHEADER_LINE_TOO_LONG";
    case OPES_EHEADER_TOO_LONG:
        return "OPES_EHEADER_TOO_LONG";
    case OPES_EURI_TOO_LONG:
        return "OPES_EURI_TOO_LONG";
    case OPES_ETOO_MANY_ITEMS:
        return "OPES_ETOO_MANY_ITEMS";
    case OPES_ETRACE_TAMPERED:
        return "OPES_ETRACE_TAMPERED";
    }
    return "OPES_UNKNOWN";
}
