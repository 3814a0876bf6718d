# PyGObject overrides for MsgObj: Python conveniences on top of the GObject
# API, which stays whole (every method, property and signal works as the
# typelib describes it). Loaded by `from gi.repository import MsgObj` when
# this file is in a gi/overrides directory on sys.path (installed next to
# GTK's overrides; in the build tree, tests put bindings/python on
# PYTHONPATH: gi.overrides extends its __path__ with pkgutil).
#
# - Keyword construction: MsgObj.Message(from_="…", to="…", subject="…")
#   (from_ because `from` is a Python keyword) and
#   MsgObj.Configuration(smtpserver="…", smtpconnectiontimeout=10).
# - Checked properties: setting an address, header or body-part property to
#   a value the library refuses raises MsgObj.PropertyError (a GLib.Error and
#   a ValueError, with the library's domain, code and message) instead of
#   logging a warning and keeping the old value: through the constructor,
#   obj.props.NAME = …, obj.set_property() and obj.set_properties().
# - MsgObj.Transport is a context manager that closes the transport.
# - send_future()/post_future()/send_message_future()/
#   post_message_future()/close_future(): the _async calls as a
#   MsgObj.Future, finished by the GLib main loop, and awaitable from an
#   asyncio coroutine (PyGObject 3.42 has no asyncio integration; gi.events
#   came with 3.50): see Future.__await__.

import threading

from gi.repository import GLib, GObject

from ..module import get_introspection_module
from ..overrides import override

MsgObj = get_introspection_module("MsgObj")

__all__ = []


class PropertyError(GLib.Error, ValueError):
    """A value a checked property refused: the GLib.Error of the library's
    set_NAME() call (same domain, code and message), also a ValueError."""

    @classmethod
    def _from_gerror(cls, error):
        return cls(error.message, error.domain, error.code)


__all__.append("PropertyError")


class _CheckedProps:
    """obj.props whose checked properties go through the set_NAME() call
    that reports the error; every other property is the GObject one."""

    __slots__ = ("_obj", "_props")

    def __init__(self, obj, props):
        object.__setattr__(self, "_obj", obj)
        object.__setattr__(self, "_props", props)

    def __getattr__(self, name):
        return getattr(self._props, name)

    def __setattr__(self, name, value):
        if not self._obj._set_checked(name.rstrip("_").replace("_", "-"), value):
            setattr(self._props, name, value)

    def __dir__(self):
        return dir(self._props)


# GObject.Object's own `props` descriptor.
_GPROPS = next(k.__dict__["props"] for k in GObject.Object.__mro__
               if "props" in k.__dict__)


class _PropsDescriptor:
    """The class attribute `props`: the class's GParamSpecs from the class,
    the checked property view from an instance."""

    def __init__(self, class_props):
        self._class_props = class_props

    def __get__(self, instance, owner):
        if instance is None:
            return self._class_props
        return _CheckedProps(instance, _GPROPS.__get__(instance, owner))


class _CheckedPropertiesMixin:
    # Property name -> the setter that returns FALSE with a GError.
    _checked = ()

    def _init_checked(self, kwargs):
        checked = {}
        for key in list(kwargs):
            name = key.rstrip("_").replace("_", "-")
            if name in self._checked:
                checked[name] = kwargs.pop(key)
            elif key.endswith("_"):
                # from_ and the like: the name without the underscore.
                kwargs[name] = kwargs.pop(key)
        return checked

    def _set_checked(self, name, value):
        if name not in self._checked:
            return False
        setter = getattr(self, "set_" + name.replace("-", "_"))
        try:
            setter(value)
        except GLib.Error as error:
            raise PropertyError._from_gerror(error) from None
        return True

    def set_property(self, property_name, value):
        if not self._set_checked(property_name.rstrip("_").replace("_", "-"), value):
            super().set_property(property_name, value)

    def set_properties(self, **kwargs):
        checked = self._init_checked(kwargs)
        for name, value in checked.items():
            self._set_checked(name, value)
        if kwargs:
            super().set_properties(**kwargs)


class Message(_CheckedPropertiesMixin, MsgObj.Message):
    """MsgObj.Message(from_=…, to=…, cc=…, subject=…, text_body=…, …):
    keywords are properties (underscores for dashes; `from_` for From).
    An invalid address or header raises MsgObj.PropertyError."""

    _checked = ("from", "sender", "reply-to", "to", "cc", "bcc", "subject",
                "newsgroups", "followup-to", "keywords", "organization",
                "message-id")

    def __init__(self, **kwargs):
        checked = self._init_checked(kwargs)
        super().__init__(**kwargs)
        for name, value in checked.items():
            self._set_checked(name, value)

    def send_future(self, cancellable=None):
        """send_async() as a MsgObj.Future whose result() is the
        MsgObj.SendReport."""
        return Future._start(self.send_async, self.send_finish, (), cancellable)

    def post_future(self, cancellable=None):
        """post_async() as a MsgObj.Future whose result() is the
        MsgObj.SendReport."""
        return Future._start(self.post_async, self.post_finish, (), cancellable)


Message.props = _PropsDescriptor(MsgObj.Message.props)
Message = override(Message)
__all__.append("Message")


class BodyPart(_CheckedPropertiesMixin, MsgObj.BodyPart):
    """An invalid content type, encoding, charset, file name, Content-ID or
    disposition set as a property raises MsgObj.PropertyError."""

    _checked = ("content-media-type", "content-transfer-encoding", "charset",
                "filename", "content-id", "content-disposition")

    def __init__(self, **kwargs):
        checked = self._init_checked(kwargs)
        super().__init__(**kwargs)
        for name, value in checked.items():
            self._set_checked(name, value)

    # A C string ends at NUL: PyGObject would pass "a\0b" as "a". Refuse it
    # here, with the error the library gives a control character.
    @staticmethod
    def _refuse_nul(what, text):
        if text is not None and "\0" in text:
            raise GLib.Error("The value of %s contains a NUL character" % what,
                             "msg-message-error-quark", MsgObj.MessageError.INVALID_HEADER)

    def set_field_parameter(self, field, parameter, value):
        self._refuse_nul("the %s parameter of %s" % (parameter, field), value)
        self._refuse_nul("a parameter name of %s" % field, parameter)
        return super().set_field_parameter(field, parameter, value)

    def insert_body_part(self, index, content_type):
        self._refuse_nul("Content-Type", content_type)
        return super().insert_body_part(index, content_type)

    def add_body_part(self, content_type):
        self._refuse_nul("Content-Type", content_type)
        return super().add_body_part(content_type)


BodyPart.props = _PropsDescriptor(MsgObj.BodyPart.props)
BodyPart = override(BodyPart)
__all__.append("BodyPart")


class Configuration(MsgObj.Configuration):
    """MsgObj.Configuration(**fields): the defaults with these fields set
    (typed values: str, int, bool, float), through set_fields(), so an
    unknown field or a bad value raises the GLib.Error naming it."""

    def __init__(self, **fields):
        super().__init__()
        if fields:
            self.set_fields(fields)


Configuration = override(Configuration)
__all__.append("Configuration")


class Transport(MsgObj.Transport):
    """A transport is a context manager:

        with MsgObj.Transport.new_for_name("smtp", config) as transport:
            transport.send_message(message, None)

    closes it (QUIT) when the block ends. When the block raises, an error
    from close() is dropped so the block's exception is the one seen."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        try:
            self.close(None)
        except GLib.Error:
            if exc_type is None:
                raise
        return False

    def send_message_future(self, message, cancellable=None):
        """send_message_async() as a MsgObj.Future (result: SendReport)."""
        return Future._start(self.send_message_async, self.send_message_finish,
                             (message,), cancellable)

    def post_message_future(self, message, cancellable=None):
        """post_message_async() as a MsgObj.Future (result: SendReport)."""
        return Future._start(self.post_message_async, self.post_message_finish,
                             (message,), cancellable)

    def close_future(self, cancellable=None):
        """close_async() as a MsgObj.Future (result: True)."""
        return Future._start(self.close_async, self.close_finish, (), cancellable)


Transport = override(Transport)
__all__.append("Transport")


class Future:
    """The outcome of a MsgObj _async call, delivered by the GLib main loop
    of the thread that started it (its thread-default main context).

    Three ways to wait: run a GLib.MainLoop and use add_done_callback();
    call result(), which iterates the main context until the call has
    finished (other sources of that context keep running meanwhile); or
    `await` it in an asyncio coroutine (see __await__). cancel() cancels
    the operation through its Gio.Cancellable; result() then raises the
    Gio.IOErrorEnum.CANCELLED GLib.Error."""

    # How often an awaited Future lets GLib dispatch what the operation
    # sent to its main context, in seconds: PyGObject 3.42 cannot wake
    # asyncio from GLib, so the context is polled. 10 ms is below what a
    # person notices and costs nothing measurable.
    _POLL_INTERVAL = 0.01

    def __init__(self, cancellable):
        from gi.repository import Gio

        self._cancellable = cancellable if cancellable is not None else Gio.Cancellable()
        self._context = GLib.MainContext.ref_thread_default()
        self._done = False
        self._value = None
        self._error = None
        self._callbacks = []
        self._lock = threading.Lock()

    @classmethod
    def _start(cls, start, finish, args, cancellable):
        future = cls(cancellable)

        def ready(source, result, *unused):
            try:
                future._finish(value=finish(result))
            except GLib.Error as error:
                future._finish(error=error)

        start(*args, future._cancellable, ready)
        return future

    def _finish(self, value=None, error=None):
        with self._lock:
            self._value, self._error, self._done = value, error, True
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)

    @property
    def cancellable(self):
        """The Gio.Cancellable the operation runs with."""
        return self._cancellable

    def done(self):
        return self._done

    def cancel(self):
        """Cancels the operation; it still finishes (with CANCELLED)."""
        self._cancellable.cancel()

    def add_done_callback(self, callback):
        """callback(future) once finished (at once when it already has),
        in the main loop of the thread that started the call."""
        with self._lock:
            if not self._done:
                self._callbacks.append(callback)
                return
        callback(self)

    def result(self, timeout=None):
        """The call's result, or raises its GLib.Error. Iterates the main
        context until then; TimeoutError after timeout seconds (the call
        goes on: cancel() it)."""
        if not self._done:
            if not self._context.acquire():
                raise RuntimeError("result() from a thread that does not own "
                                   "the main context the call started in")
            try:
                self._iterate(timeout)
            finally:
                self._context.release()
        if self._error is not None:
            raise self._error
        return self._value

    def _iterate(self, timeout):
        expired = []
        source = None
        if timeout is not None:
            source = GLib.timeout_source_new(int(timeout * 1000))
            source.set_callback(lambda *unused: expired.append(True) or False)
            source.attach(self._context)
        try:
            while not self._done and not expired:
                self._context.iteration(True)
        finally:
            if source is not None:
                source.destroy()
        if not self._done:
            raise TimeoutError("the call has not finished in %g s" % timeout)

    def __await__(self):
        """`report = await future` in an asyncio coroutine, with asyncio's
        loop running in the thread that started the call: the GLib main
        context the call delivers to (its completion, and the transport's
        progress signal) is iterated from the asyncio loop until the call
        has finished, then the result is returned or its GLib.Error raised.
        When a GLib.MainLoop of another thread owns that context, it does
        the dispatching and the coroutine only waits. Cancelling the
        awaiting task cancels the operation (its Gio.Cancellable)."""
        import asyncio

        try:
            while not self._done:
                if self._context.acquire():
                    try:
                        while not self._done and self._context.iteration(False):
                            pass
                    finally:
                        self._context.release()
                if not self._done:
                    yield from asyncio.sleep(self._POLL_INTERVAL).__await__()
        except asyncio.CancelledError:
            self.cancel()
            raise
        return self.result()

    def exception(self, timeout=None):
        """The GLib.Error the call failed with, or None (waits like
        result())."""
        try:
            self.result(timeout)
        except GLib.Error as error:
            return error
        return None


__all__.append("Future")
